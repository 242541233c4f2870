import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The subscription's secretKey (which signs Calypso's deliveries) at rest. n8n keeps static data unencrypted in its
 * database, so the secret is stored sealed: AES-256-GCM under a key derived (HKDF-SHA256) from the Calypso
 * credential's Secret Key, salted with its API Key, and bound to the subscription's requestId (the GCM additional
 * data). Whoever reads the workflow table cannot forge deliveries without also decrypting the credential.
 * Format: `v1.<base64url(iv 12 bytes | tag 16 bytes | ciphertext)>`.
 */
const INFO = 'n8n-nodes-calypso-pay/trigger/subscription-secret/v1';
const PREFIX = 'v1.';

export interface SealingCredential {
	apiKey?: unknown;
	apiSecret?: unknown;
}

function keyOf(credential: SealingCredential): Buffer {
	const secret = typeof credential.apiSecret === 'string' ? credential.apiSecret : '';
	const salt = typeof credential.apiKey === 'string' ? credential.apiKey : '';
	return Buffer.from(hkdfSync('sha256', secret, salt, INFO, 32));
}

export function sealSecret(secret: string, credential: SealingCredential, requestId: string): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', keyOf(credential), iv);
	cipher.setAAD(Buffer.from(requestId, 'utf8'));
	const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
	return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

/** The secret, or undefined when the value does not open with this credential and requestId (or is malformed). */
export function openSecret(
	sealed: unknown,
	credential: SealingCredential,
	requestId: string,
): string | undefined {
	if (typeof sealed !== 'string' || !sealed.startsWith(PREFIX)) return undefined;
	const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
	if (bytes.length < 12 + 16 + 1) return undefined;
	try {
		const decipher = createDecipheriv('aes-256-gcm', keyOf(credential), bytes.subarray(0, 12));
		decipher.setAAD(Buffer.from(requestId, 'utf8'));
		decipher.setAuthTag(bytes.subarray(12, 28));
		return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
	} catch {
		return undefined;
	}
}
