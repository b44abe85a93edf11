// The assignments module: worksheets and submissions, files, review, extensions, the workbook PDF and its panels.
import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import { createAssignmentService, type AssignmentService } from './service.js';
import { createViewModels, type ViewModels } from './view-models.js';
import routes from './routes.js';
import pages from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    assignments: AssignmentService;
    /** View models for assignment panels and pages. */
    assignmentViews: ViewModels;
  }
}

/** The largest upload any assignment may allow (content caps `upload.maxMb` at 25). */
const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

const assignmentsModule: FastifyPluginAsync = async (fastify) => {
  const ctx = fastify.cc;
  ctx.assignments = createAssignmentService(ctx);
  ctx.assignmentViews = createViewModels(ctx);

  // Multipart only for this module's routes, with tight limits; each route narrows fileSize to the assignment's own.
  await fastify.register(multipart, {
    throwFileSizeLimit: false,
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 150, fieldSize: 200_000, parts: 160, headerPairs: 100, fieldNameSize: 120 },
  });

  ctx.panels.register('week', {
    order: 20,
    render: ({ access, week, now }) => {
      const model = ctx.assignmentViews.worksheet(access, week, now);
      return model ? { partial: 'assignments/worksheet', model } : null;
    },
  });
  ctx.panels.register('cohort-home', {
    order: 20,
    render: ({ access, now }) => {
      const model = ctx.assignmentViews.learnerDates(access, now);
      return model ? { partial: 'assignments/my-dates', model } : null;
    },
  });
  ctx.panels.register('cohort-staff', {
    order: 20,
    render: ({ access }) => {
      const model = ctx.assignmentViews.staffTools(access);
      return model ? { partial: 'assignments/staff-tools', model } : null;
    },
  });

  ctx.scheduler.register('assignments-due-soon', (now) => void ctx.assignments.remindDueSoon(now));

  await fastify.register(routes);
  await fastify.register(pages);
};
export default assignmentsModule;
