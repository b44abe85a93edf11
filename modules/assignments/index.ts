// The assignments module: not built yet (see its issue); registered here so app.ts lists every module.
import type { FastifyPluginAsync } from 'fastify';

const assignmentsModule: FastifyPluginAsync = async () => {};
export default assignmentsModule;
