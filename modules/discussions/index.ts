// The discussions module: not built yet (see its issue); registered here so app.ts lists every module.
import type { FastifyPluginAsync } from 'fastify';

const discussionsModule: FastifyPluginAsync = async () => {};
export default discussionsModule;
