/**
 * The API's schemas, in zod: they validate every request and generate the OpenAPI document
 * (api/routing.ts registers both from one route declaration), so the two cannot disagree.
 */
export * from '../../audiences/http/schemas';
export * from './campaigns';
export * from './common';
export * from '../../audiences/http/consent-schemas';
export * from '../../delivery/http/schemas';
export * from './keys';
export * from '../../triggers/http/schemas';
export * from '../../reports/http/schemas';
export * from './preview';
