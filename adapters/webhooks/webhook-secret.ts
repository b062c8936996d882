/**
 * Webhook signing secrets: generated here (32 random bytes, base64url), shown once in the create
 * or rotate response, and kept only sealed (AES-256-GCM, adapters/secrets/crypto-box.ts) in the
 * command and event (DESIGN §4: no plaintext secret in the log). The sealing key lives in the
 * secrets dir as `webhook.key`, never in the log, so a leaked database alone signs nothing.
 */
import { randomBytes } from 'node:crypto';
import { open, seal } from '../secrets/crypto-box.ts';
import type { SecretStore } from '../secrets/secret-store.ts';

export const WEBHOOK_KEY_NAME = 'webhook.key';

export const generateWebhookSecret = (): string => randomBytes(32).toString('base64url');

const keyOf = (secrets: Pick<SecretStore, 'getOrCreate'>): Buffer => secrets.getOrCreate(WEBHOOK_KEY_NAME, () => randomBytes(32));

export const sealWebhookSecret = (secrets: Pick<SecretStore, 'getOrCreate'>, secret: string): string => seal(keyOf(secrets), secret);

/** Throws when the ciphertext was tampered with or sealed under another key. */
export const openWebhookSecret = (secrets: Pick<SecretStore, 'getOrCreate'>, sealed: string): string => open(keyOf(secrets), sealed);
