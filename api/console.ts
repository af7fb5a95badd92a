/**
 * The web console (console/, built into console/dist by toolchain/build-console.js) on the API's own
 * origin: `/` is its page, `/console/*` its script and stylesheet. Everything it does goes through
 * the public /v1 API with the signed-in key. Without a build, `/` says how to make one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { HttpProblem } from './problem';

export const CONSOLE_DIST = path.resolve(__dirname, '..', 'console', 'dist');

export function consoleRoutes(dist = CONSOLE_DIST): express.Router {
  const router = express.Router();
  router.use('/console', express.static(dist, { index: false }), (req, _res, next) =>
    next(new HttpProblem(404, 'ROUTE_NOT_FOUND', `no console file ${req.path}`)),
  );
  router.get('/', (_req, res) => {
    const page = path.join(dist, 'index.html');
    if (!existsSync(page)) {
      res
        .status(503)
        .type('text/plain')
        .send(
          'The web console is not built: run `npm run build:console` (npm install does it), then reload.',
        );
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(page);
  });
  return router;
}
