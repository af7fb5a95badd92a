/** Preview: a draft's templates rendered against the sample profile, as review renders them. */
import { SAMPLE_PROFILE, previewContent } from '../../domain/review';
import type { Routes } from '../routing';
import { previewRequestSchema, previewSchema } from '../schemas';

export function previewRoutes(routes: Routes): void {
  routes.add({
    method: 'post',
    path: '/v1/preview',
    tag: 'draft',
    summary: 'Render content against the sample profile (changes nothing)',
    description:
      'The subject, title and body templates rendered with the sample profile review uses, so a ' +
      'template that fails here fails review too. Nothing is stored; any role may call it.',
    permission: 'read',
    body: previewRequestSchema,
    responses: { 200: { description: 'the rendered fields', schema: previewSchema } },
    handler({ body, res }) {
      res.json({ profile: SAMPLE_PROFILE, ...previewContent(body.content) });
    },
  });
}
