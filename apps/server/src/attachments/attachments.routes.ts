import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import type { SenderType } from '../db/schema.ts';
import { IdParams, principalOf, responses, type App } from '../http.ts';
import { ParleyError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { AGENT_ATTACHMENTS, AttachmentDto } from '../conversations/conversation-dto.ts';
import { effectiveType, isAcceptedType, sanitizeFilename, servesInline } from './attachment-policy.ts';

/** Takes one multipart file from the request, checks it and stores it; the row commits last. */
export async function receiveAttachment(
  deps: Deps,
  request: FastifyRequest,
  owner: { tenantId: string; conversationId: string | null; uploaderType: SenderType; uploaderId: string | null },
  urlBase: string,
) {
  if (!request.isMultipart()) throw new ParleyError('PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the file as multipart/form-data in a field named "file"');
  const file = await request.file();
  if (!file) throw new ParleyError('PARLEY_ERR_VALIDATION', 'no file in the request');
  if (!isAcceptedType(file.mimetype)) {
    file.file.resume();
    throw new ParleyError('PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE', `files of type ${file.mimetype} are not accepted`);
  }
  const id = newId('att');
  const stored = await deps.storage.put(owner.tenantId, id, file.file);
  if (file.file.truncated) {
    await deps.storage.remove(stored.key);
    throw new ParleyError('PARLEY_ERR_PAYLOAD_TOO_LARGE', `a file may have at most ${deps.config.maxAttachmentBytes} bytes`);
  }
  const row = {
    id,
    tenant_id: owner.tenantId,
    conversation_id: owner.conversationId,
    uploader_type: owner.uploaderType,
    uploader_id: owner.uploaderId,
    filename: sanitizeFilename(file.filename),
    content_type: effectiveType(file.mimetype, stored.head),
    size: stored.size,
    storage_key: stored.key,
  };
  await deps.db.insertInto('attachments').values(row).execute();
  return { id, filename: row.filename, contentType: row.content_type, size: row.size, url: `${urlBase}/${id}` };
}

/** Streams an attachment with headers that keep active content from running in our origin. */
export async function sendAttachment(deps: Deps, reply: FastifyReply, tenantId: string, id: string, conversationId?: string) {
  let q = deps.db.selectFrom('attachments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
  if (conversationId) q = q.where('conversation_id', '=', conversationId);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('attachment');
  const inline = servesInline(row.content_type);
  return reply
    .header('content-type', inline ? row.content_type : 'application/octet-stream')
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(row.filename)}`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, max-age=3600')
    .send(deps.storage.open(row.storage_key));
}

export function attachmentRoutes(app: App, deps: Deps) {
  app.post('/attachments', { schema: { tags: ['attachments'], consumes: ['multipart/form-data'], response: responses({ 201: AttachmentDto }) } }, async (request, reply) => {
    const principal = principalOf(request);
    const attachment = await receiveAttachment(deps, request, { tenantId: principal.tenantId, conversationId: null, uploaderType: 'user', uploaderId: principal.userId }, AGENT_ATTACHMENTS);
    return reply.status(201).send(attachment);
  });

  app.get('/attachments/:id', { schema: { tags: ['attachments'], params: IdParams } }, async (request, reply) => {
    return sendAttachment(deps, reply, principalOf(request).tenantId, request.params.id);
  });
}
