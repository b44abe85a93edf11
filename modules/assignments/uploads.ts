// Files on the learner's working copy: whether they may upload now, attaching a checked upload, removing and fetching.
// A file's bytes are written and deleted with its row, in one transaction, so neither exists without the other.
import { and, desc, eq, isNull } from 'drizzle-orm';
import { BadInput, Conflict, Forbidden, NotFound } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { CohortAccess } from '../cohorts/service.js';
import type { UploadRule } from '../courses/content.js';
import { newFileId, type PreparedUpload } from './files.js';
import { fileContents, submissionFiles, submissions, submissionVersions } from './schema.js';
import { currentFiles, ensureRow, fileDoc, parseArray } from './records.js';
import { assertWritable } from './worksheet.js';
import { MAX_FILES, type Deps, type FileDoc } from './types.js';

const FILE_ID = /^[0-9a-f]{32}$/;

/** Checks that the learner may upload to this week now; returns the upload rule. */
export async function uploadRule(d: Deps, access: CohortAccess, n: number): Promise<UploadRule> {
  const { assignment, row } = await assertWritable(d, d.database.db, access, n);
  if (!assignment.upload) throw new BadInput(`week ${n} does not take file uploads.`, 'file');
  if (row && (await currentFiles(d.database.db, row.id)).length >= MAX_FILES) {
    throw new Conflict(`You can attach up to ${MAX_FILES} files to one week; remove one first.`);
  }
  return assignment.upload;
}

/** Keep a checked upload: store its bytes and attach it to the learner's working copy. */
export async function attach(d: Deps, access: CohortAccess, n: number, prepared: PreparedUpload): Promise<FileDoc> {
  const id = newFileId();
  const now = d.clock.now();
  const row = await d.database.transaction(async (tx) => {
      const { assignment, row: existing } = await assertWritable(d, tx, access, n);
      if (!assignment.upload) throw new BadInput(`week ${n} does not take file uploads.`, 'file');
      const sub = existing ?? (await ensureRow(tx, access.cohort.id, access.user.id, n, now));
      if ((await currentFiles(tx, sub.id)).length >= MAX_FILES) throw new Conflict(`You can attach up to ${MAX_FILES} files to one week; remove one first.`);
      // Files are listed in upload order by this instant: a file attached in the same millisecond as the one before it
      // is stamped a millisecond later, so the order needs no engine-specific row number.
      const [last] = await tx
        .select({ uploadedAt: submissionFiles.uploadedAt })
        .from(submissionFiles)
        .where(eq(submissionFiles.submissionId, sub.id))
        .orderBy(desc(submissionFiles.uploadedAt))
        .limit(1);
      const uploadedAt = last && last.uploadedAt.getTime() >= now.getTime() ? new Date(last.uploadedAt.getTime() + 1) : now;
      const [inserted] = await tx
        .insert(submissionFiles)
        .values({ id, submissionId: sub.id, originalName: prepared.originalName, type: prepared.type, size: prepared.size, sha256: prepared.sha256, uploadedAt })
        .returning();
      await tx.insert(fileContents).values({ fileId: id, content: prepared.content });
      return inserted;
    });
  return fileDoc(row);
}

/** Take a file off the learner's working copy; files in submitted versions stay for the history. */
export async function removeFile(d: Deps, access: CohortAccess, n: number, fileId: string): Promise<void> {
  await d.database.transaction(async (tx) => {
    const { row } = await assertWritable(d, tx, access, n);
    const [file] = row
      ? await tx
          .select()
          .from(submissionFiles)
          .where(and(eq(submissionFiles.id, fileId), eq(submissionFiles.submissionId, row.id), isNull(submissionFiles.removedAt)))
          .limit(1)
      : [];
    if (!row || !file) throw new NotFound('File');
    const versions = await tx.select({ fileIds: submissionVersions.fileIds }).from(submissionVersions).where(eq(submissionVersions.submissionId, row.id));
    if (versions.some((v) => parseArray(v.fileIds).includes(fileId))) {
      await tx.update(submissionFiles).set({ removedAt: d.clock.now() }).where(eq(submissionFiles.id, fileId));
      return;
    }
    // Its bytes go with it (file_contents cascades).
    await tx.delete(submissionFiles).where(eq(submissionFiles.id, fileId));
  });
}

/** A stored file with the submission it belongs to, or 404 (ids that cannot be ours are not looked up). */
async function fileWithOwner(d: Deps, fileId: string) {
  const [found] = FILE_ID.test(fileId)
    ? await d.database.db
        .select({ file: submissionFiles, cohortId: submissions.cohortId, userId: submissions.userId, week: submissions.week })
        .from(submissionFiles)
        .innerJoin(submissions, eq(submissions.id, submissionFiles.submissionId))
        .where(eq(submissionFiles.id, fileId))
        .limit(1)
    : [];
  if (!found) throw new NotFound('File');
  return found;
}

/** The learner removes one of their own files (API). */
export async function removeOwnFile(d: Deps, user: User | null, fileId: string): Promise<void> {
  const found = await fileWithOwner(d, fileId);
  const access = await d.cohorts.access(user, found.cohortId);
  if (access.role !== 'learner' || found.userId !== access.user.id) throw new Forbidden('Only the learner who uploaded a file can remove it.');
  await removeFile(d, access, found.week, fileId);
}

/** A stored file for its owner or the cohort's instructors and admins. */
export async function fileFor(d: Deps, user: User | null, fileId: string): Promise<{ file: FileDoc; cohortId: number }> {
  const found = await fileWithOwner(d, fileId);
  const access = await d.cohorts.access(user, found.cohortId);
  if (access.role === 'learner' && found.userId !== access.user.id) throw new Forbidden('This file belongs to another learner.');
  return { file: fileDoc(found.file), cohortId: found.cohortId };
}

/** A stored file's bytes (after fileFor has checked who may read it), or null when none were kept. */
export async function fileContent(d: Deps, fileId: string): Promise<Buffer | null> {
  const [found] = await d.database.db.select({ content: fileContents.content }).from(fileContents).where(eq(fileContents.fileId, fileId)).limit(1);
  return found?.content ?? null;
}
