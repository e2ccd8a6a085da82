import pino from 'pino';
import type { SmsSettings } from '../settings.ts';
import { EsmeSession } from './esme.ts';
import type { PrivateTargets } from '../../../net/private-targets.ts';
import { Status } from './pdu.ts';

const quiet = pino({ level: 'silent' });

/**
 * The admin's "test connection": one bind_transceiver with these settings, then unbind. The
 * first failure (refused connection, refused credentials, no answer) is the answer.
 */
export async function probeBind(settings: SmsSettings, privateTargets: PrivateTargets, timeoutMs = 8_000): Promise<{ ok: boolean; message: string }> {
  const smpp = settings.smpp;
  if (!smpp) return { ok: false, message: 'settings.sms.smpp is missing' };
  const where = `${smpp.host}:${smpp.port}`;
  let failed: (reason: string) => void = () => undefined;
  const failure = new Promise<string>((resolve) => (failed = resolve));
  const session = new EsmeSession(
    {
      host: smpp.host,
      port: smpp.port,
      tls: smpp.tls ?? false,
      systemId: smpp.systemId,
      password: smpp.password ?? '',
      systemType: smpp.systemType ?? '',
      windowSize: 1,
      maxSubmitsPerSecond: null,
      enquireLinkMs: 60_000,
      responseTimeoutMs: timeoutMs,
      queueTimeoutMs: timeoutMs,
      reconnectMinMs: 60_000,
      reconnectMaxMs: 60_000,
      privateTargets,
    },
    { onDeliver: async () => Status.ESME_RX_T_APPN, onBindFailure: (reason) => failed(reason) },
    quiet,
  );
  session.start();
  try {
    const outcome = await Promise.race([session.waitBound(timeoutMs).then(() => null), failure]);
    return outcome === null ? { ok: true, message: `bound to ${where} as ${smpp.systemId}` } : { ok: false, message: `SMPP bind to ${where} failed: ${outcome}` };
  } catch (err) {
    return { ok: false, message: `SMPP bind to ${where} failed: ${(err as Error).message}` };
  } finally {
    await session.stop();
  }
}
