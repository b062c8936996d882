/**
 * TLS certificates for the broker's listeners and bridges (issue 13): list (viewer: no secret in
 * the view), add and remove (admin: a private key goes to the broker). The PEM and key are
 * checked and stored by adapters/certs/add-certificate.ts, the one path the CLI uses too; the
 * response never carries either.
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { addCertificate, removeCertificate } from '../../certs/add-certificate.ts';
import { createCertStore } from '../../certs/cert-store.ts';
import { certificateView, listCertificates } from '../../certs/certificate-view.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, param, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/certificates';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'viewer' },
  { method: 'POST', path: BASE, minRole: 'admin' },
  { method: 'DELETE', path: `${BASE}/{name}`, minRole: 'admin' },
];

type CreateBody = { name: string; cert: string; key?: string; ca?: string; replace?: boolean };

export const registerCertificateRoutes = (router: Router, deps: HttpDeps): void => {
  const certDeps = { store: deps.store, clock: deps.clock, certs: createCertStore(deps.secrets), serviceAccount: deps.serviceAccount };
  const now = (): Date => new Date(deps.clock.now());

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      setEtag(ctx, state.seq);
      ctx.body = pageOf(listCertificates(state, now()), (c) => c.name, parsePageQuery(ctx.query));
    },

    [`POST ${BASE}`]: [validateBody('CertificateCreate'), (ctx) => {
      const cmd = commandContext(ctx);
      const body = bodyOf<CreateBody>(ctx);
      const added = addCertificate(certDeps, {
        name: body.name,
        cert: body.cert,
        key: body.key ?? null,
        ca: body.ca ?? null,
        ...(body.replace === undefined ? {} : { replace: body.replace }),
      }, cmd);
      ctx.set('Location', `${API_PREFIX}${BASE}/${encodeURIComponent(added.certificate.name)}`);
      reply(ctx, 201, { ...certificateView(deps.store.state(), added.certificate, now()), notes: [...added.notes] }, added.seq);
    }],

    [`DELETE ${BASE}/{name}`]: (ctx) => {
      const name = param(ctx, 'name');
      if (!own(deps.store.state().certificates ?? {}, name)) {
        throw new DomainError(ERROR_CODES.CERTIFICATE_NOT_FOUND, `no certificate named ${JSON.stringify(name.slice(0, 100))}`, [{ name: name.slice(0, 100) }]);
      }
      const result = removeCertificate(certDeps, name, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },
  });
};
