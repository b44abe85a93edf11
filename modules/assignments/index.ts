// The assignments module: worksheets and submissions, files, review, extensions, the workbook PDF and its panels.
import fp from 'fastify-plugin';
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

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const { database, clock, mailer, events, baseUrl, people, courses, cohorts } = ctx;
    const service = createAssignmentService({ database, clock, mailer, events, baseUrl, people, courses, cohorts });
    const views = createViewModels(service);
    ctx.assignments = service;
    ctx.assignmentViews = views;
    // A new version of the course may not take away a week that holds learners' work: the cohort keeps its version.
    events.on('cohort.version-changing', async (tx, { cohort, to }) => service.refuseLosingWork(tx, cohort, to.course));

    ctx.panels.register('week', {
      order: 20,
      render: async ({ access, week, now }) => {
        const model = await views.worksheet(access, week, now);
        return model ? { partial: 'assignments/worksheet', model } : null;
      },
    });
    ctx.panels.register('cohort-home', {
      order: 20,
      render: async ({ access, now }) => {
        const model = await views.learnerDates(access, now);
        return model ? { partial: 'assignments/my-dates', model } : null;
      },
    });
    ctx.panels.register('cohort-staff', {
      order: 20,
      render: async ({ access }) => {
        const model = await views.staffTools(access);
        return model ? { partial: 'assignments/staff-tools', model } : null;
      },
    });

    ctx.scheduler.register('assignments-due-soon', async (now) => {
      await service.remindDueSoon(now);
    });

    // A child scope, so multipart parsing (with tight limits) applies to this module's routes only; each route narrows
    // fileSize to the assignment's own.
    await fastify.register(async (scope) => {
      await scope.register(multipart, {
        throwFileSizeLimit: false,
        limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 150, fieldSize: 200_000, parts: 160, headerPairs: 100, fieldNameSize: 120 },
      });
      await scope.register(routes);
      await scope.register(pages);
    });
  },
  { name: 'assignments', dependencies: ['people', 'courses', 'cohorts'] },
);
