// The sessions module: not built yet (see its issue); registered here so app.ts lists every module.
import type { FastifyPluginAsync } from 'fastify';

const sessionsModule: FastifyPluginAsync = async () => {};
export default sessionsModule;
