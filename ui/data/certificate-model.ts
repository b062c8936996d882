/**
 * The Broker screen's certificates (issue 13): how long each has left (a warning at 30 days or
 * less, an error once expired), which ones a listener or a bridge can use, and the upload
 * (POST /certificates: PEM certificate, optional key and CA) and removal, with the server's
 * refusals as outcomes. No DOM: tested in tests/ui/broker-model.test.ts against the real app.
 */
import { ApiError, type ApiClient } from './api-client.ts';
import { fieldProblems, type CertificateView, type FieldProblem } from './broker-model.ts';

/** Days left at or under which a certificate is flagged (issue 13: "warning ≤ 30 days"). */
export const EXPIRY_WARN_DAYS = 30;

export type ExpiryTone = 'error' | 'warn' | '';

export const expiryTone = (c: Pick<CertificateView, 'expires_in_days'>): ExpiryTone =>
  c.expires_in_days < 0 ? 'error' : c.expires_in_days <= EXPIRY_WARN_DAYS ? 'warn' : '';

/** "expired 3 days ago", "expires today", "expires in 12 days". */
export const expiryText = (c: Pick<CertificateView, 'expires_in_days'>): string => {
  const d = c.expires_in_days;
  if (d < 0) return `expired ${-d === 1 ? 'yesterday' : `${(-d).toLocaleString('en-US')} days ago`}`;
  if (d === 0) return 'expires today';
  return `expires in ${d === 1 ? '1 day' : `${d.toLocaleString('en-US')} days`}`;
};

/** Certificates a listener or a bridge can present (they have a key), and CAs to verify with. */
export const certificateChoices = (certs: readonly CertificateView[]): { withKey: string[]; cas: string[] } => ({
  withKey: certs.filter((c) => c.has_key).map((c) => c.name),
  cas: certs.filter((c) => c.is_ca).map((c) => c.name),
});

/** "CA", "key", "CA, key" or "certificate only". */
export const certificateKind = (c: Pick<CertificateView, 'is_ca' | 'has_key'>): string =>
  [c.is_ca ? 'CA' : '', c.has_key ? 'private key' : ''].filter(Boolean).join(', ') || 'certificate only';

export type CertificateForm = { name: string; cert: string; key: string; ca: string; replace: boolean };

export const emptyCertificateForm = (): CertificateForm => ({ name: '', cert: '', key: '', ca: '', replace: false });

export type CertificateBody = { name: string; cert: string; key?: string; ca?: string; replace?: boolean };

/** The body of POST /certificates, or the problems that keep the form from being sent. */
export const certificateBody = (f: CertificateForm): { body: CertificateBody | null; problems: Record<string, string> } => {
  const problems: Record<string, string> = {};
  const name = f.name.trim();
  if (name === '') problems['name'] = 'required';
  else if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) problems['name'] = "1–64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit";
  if (!f.cert.includes('-----BEGIN CERTIFICATE-----')) problems['cert'] = 'paste or upload a PEM certificate (-----BEGIN CERTIFICATE-----)';
  if (f.key.trim() !== '' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(f.key)) problems['key'] = 'a PEM private key (-----BEGIN PRIVATE KEY-----), or leave it empty';
  if (Object.keys(problems).length > 0) return { body: null, problems };
  return {
    body: {
      name, cert: f.cert,
      ...(f.key.trim() === '' ? {} : { key: f.key }),
      ...(f.ca === '' ? {} : { ca: f.ca }),
      ...(f.replace ? { replace: true } : {}),
    },
    problems,
  };
};

export type CertOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'invalid'; message: string; problems: FieldProblem[] }
  | { kind: 'error'; message: string; code: string; status: number };

const refused = (err: unknown): CertOutcome<never> => {
  if (!(err instanceof ApiError)) throw err;
  if (err.status === 400) return { kind: 'invalid', message: err.message, problems: fieldProblems(err.details, err.message) };
  return { kind: 'error', message: err.message, code: err.code, status: err.status };
};

/** POST /certificates (admin): the stored certificate's view and the server's notes (e.g. "expires in 20 days"). */
export const uploadCertificate = async (api: ApiClient, body: CertificateBody): Promise<CertOutcome<CertificateView & { notes: string[] }>> => {
  try {
    return { kind: 'ok', value: await api.post<CertificateView & { notes: string[] }>('/certificates', body) };
  } catch (err) {
    return refused(err);
  }
};

/** DELETE /certificates/{name} (admin); refused (409) while a listener or bridge uses it. */
export const removeCertificate = async (api: ApiClient, name: string): Promise<CertOutcome<null>> => {
  try {
    await api.del(`/certificates/${encodeURIComponent(name)}`);
    return { kind: 'ok', value: null };
  } catch (err) {
    return refused(err);
  }
};
