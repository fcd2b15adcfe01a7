/**
 * The portal: one page per role, over the gateway's own API. Preact because the pages are forms and tables that
 * re-render on every answer, and it bundles to a few kilobytes with esbuild, with no build step beyond `npm run
 * build`. The participant's identity (key and certificate) is in this browser's IndexedDB; see keystore.ts.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { consentClaims, signConsentToken } from '../../crypto/participantTokens.js';
import type { ConsentPurpose } from '../../crypto/participantTokens.js';
import { fromBase64, leafHashOf, openCheckpoint, verifyConsistency, verifyInclusion } from '../../crypto/webProofs.js';
import { enrol, importIdentity, importPkcs12, pemToDer, PortalError, publicCall, signedCall } from './api.js';
import { formatTime, hasMessage, initialLocale, rememberLocale, translator } from './i18n.js';
import type { Locale, MessageKey, Translate } from './i18n.js';
import { forgetIdentity, loadIdentity, saveIdentity } from './keystore.js';
import type { Identity } from './keystore.js';

interface Context {
  readonly t: Translate;
  readonly locale: Locale;
  readonly identity: Identity;
}

const PURPOSES: readonly ConsentPurpose[] = ['customer_screening', 'pre_loan_investigation', 'loan_approval', 'post_loan_management'];

function describe(error: unknown, t: Translate): string {
  if (error instanceof PortalError) {
    // The portal's own refusals (a wrong password, a mistyped confirmation) have words; the gateway's say their code.
    const key = `error.${error.code}`;
    return hasMessage(key) ? `${t('error')}: ${t(key)}` : `${t('error')}: ${error.code} — ${error.message}`;
  }
  return `${t('error')}: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs an action, showing what went wrong in the page's alert region. */
function useAction(t: Translate): [string | undefined, (run: () => Promise<void>) => Promise<void>] {
  const [error, setError] = useState<string | undefined>(undefined);
  return [error, async (run) => {
    setError(undefined);
    try {
      await run();
    } catch (caught) {
      setError(describe(caught, t));
    }
  }];
}

function Alert({ text }: { text: string | undefined }) {
  return <div role="alert" aria-live="assertive">{text ? <p class="error">{text}</p> : null}</div>;
}

function Field({ id, label, children }: { id: string; label: string; children: ComponentChildren }) {
  return <div><label for={id}>{label}</label>{children}</div>;
}

// ─── Before there is an identity ──────────────────────────────────────────────────────────────────────────────

/** A download of bytes made in this page (a blob: URL, revoked when the link goes). */
function useDownload(bytes: Uint8Array<ArrayBuffer> | undefined, type: string): string | undefined {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!bytes) return undefined;
    const made = URL.createObjectURL(new Blob([bytes], { type }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [bytes]);
  return bytes ? url : undefined;
}

const MIN_BACKUP_PASSWORD = 10;

function Welcome({ t, onIdentity }: { t: Translate; onIdentity: (identity: Identity) => void }) {
  const [error, run] = useAction(t);
  const [code, setCode] = useState('');
  const [withBackup, setWithBackup] = useState(false);
  const [backupPassword, setBackupPassword] = useState('');
  const [backupConfirm, setBackupConfirm] = useState('');
  const [enrolled, setEnrolled] = useState<{ identity: Identity; backup: Uint8Array<ArrayBuffer> | undefined } | undefined>(undefined);
  const backupUrl = useDownload(enrolled?.backup, 'application/x-pkcs12');
  const [participantId, setParticipantId] = useState('');
  const [keyPem, setKeyPem] = useState('');
  const [certificatePem, setCertificatePem] = useState('');
  const [p12, setP12] = useState<Uint8Array | undefined>(undefined);
  const [p12Password, setP12Password] = useState('');
  const readFile = (set: (text: string) => void) => async (event: Event) => {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (file) set(await file.text());
  };
  if (enrolled) {
    // The enrolment is done and kept; the page waits here so that the backup is saved before anything else.
    return (
      <section aria-labelledby="backup-title">
        <h2 id="backup-title">{t('backup.title')}</h2>
        {enrolled.backup && backupUrl ? (
          <div class="notice" role="status">
            <p>{t('backup.ready', { id: enrolled.identity.participantId })}</p>
            <p><a download={`${enrolled.identity.participantId}-key-backup.p12`} href={backupUrl}>{t('backup.download')}</a></p>
          </div>
        ) : <p class="error" role="alert">{t('backup.failed')}</p>}
        <p class="warning">{t('backup.onlyNow')}</p>
        <button type="button" onClick={() => onIdentity(enrolled.identity)}>{t('backup.continue')}</button>
      </section>
    );
  }
  return (
    <>
      <Alert text={error} />
      <section aria-labelledby="enrol-title">
        <h2 id="enrol-title">{t('enrol.title')}</h2>
        <p>{t('enrol.explain')}</p>
        <form onSubmit={(event) => { event.preventDefault(); void run(async () => {
          if (withBackup && backupPassword !== backupConfirm) throw new PortalError('backup_password_mismatch', 'the two passwords differ');
          const made = await enrol(code.trim(), withBackup ? backupPassword : undefined);
          await saveIdentity(made.identity);
          if (withBackup) setEnrolled({ identity: made.identity, backup: made.backup });
          else onIdentity(made.identity);
        }); }}>
          <Field id="enrol-code" label={t('enrol.code')}>
            <input id="enrol-code" name="code" autocomplete="off" required value={code} onInput={(event) => setCode(event.currentTarget.value)} />
          </Field>
          <fieldset>
            <legend>{t('backup.legend')}</legend>
            <p class="warning" id="backup-warning">{t('backup.onlyNow')}</p>
            <div class="choice">
              <input type="checkbox" id="enrol-backup" aria-describedby="backup-warning" checked={withBackup} onChange={(event) => setWithBackup(event.currentTarget.checked)} />
              <label for="enrol-backup">{t('backup.make')}</label>
            </div>
            {withBackup ? (
              <>
                <Field id="backup-password" label={t('backup.password', { min: MIN_BACKUP_PASSWORD })}>
                  <input id="backup-password" type="password" autocomplete="new-password" required minLength={MIN_BACKUP_PASSWORD} value={backupPassword} onInput={(event) => setBackupPassword(event.currentTarget.value)} />
                </Field>
                <Field id="backup-confirm" label={t('backup.confirm')}>
                  <input id="backup-confirm" type="password" autocomplete="new-password" required minLength={MIN_BACKUP_PASSWORD} value={backupConfirm} onInput={(event) => setBackupConfirm(event.currentTarget.value)} />
                </Field>
              </>
            ) : null}
          </fieldset>
          <button type="submit">{t('enrol.submit')}</button>
        </form>
      </section>
      <section aria-labelledby="p12-title">
        <h2 id="p12-title">{t('p12.title')}</h2>
        <p>{t('p12.explain')}</p>
        <form onSubmit={(event) => { event.preventDefault(); void run(async () => {
          if (!p12) return;
          const identity = await importPkcs12(p12, p12Password);
          await saveIdentity(identity);
          onIdentity(identity);
        }); }}>
          <Field id="import-p12" label={t('p12.file')}>
            <input id="import-p12" type="file" accept=".p12,.pfx,application/x-pkcs12" required onChange={async (event) => {
              const file = event.currentTarget.files?.[0];
              setP12(file ? new Uint8Array(await file.arrayBuffer()) : undefined);
            }} />
          </Field>
          <Field id="import-p12-password" label={t('p12.password')}>
            <input id="import-p12-password" type="password" autocomplete="current-password" value={p12Password} onInput={(event) => setP12Password(event.currentTarget.value)} />
          </Field>
          <button type="submit">{t('p12.submit')}</button>
        </form>
      </section>
      <section aria-labelledby="import-title">
        <h2 id="import-title">{t('import.title')}</h2>
        <p>{t('import.explain')}</p>
        <form onSubmit={(event) => { event.preventDefault(); void run(async () => {
          const identity = await importIdentity(participantId.trim(), keyPem, certificatePem);
          await saveIdentity(identity);
          onIdentity(identity);
        }); }}>
          <Field id="import-id" label={t('import.participant')}>
            <input id="import-id" required value={participantId} onInput={(event) => setParticipantId(event.currentTarget.value)} />
          </Field>
          <Field id="import-key" label={t('import.key')}>
            <input id="import-key" type="file" accept=".pem,.key" required onChange={readFile(setKeyPem)} />
          </Field>
          <Field id="import-certificate" label={t('import.certificate')}>
            <input id="import-certificate" type="file" accept=".pem,.crt" required onChange={readFile(setCertificatePem)} />
          </Field>
          <button type="submit">{t('import.submit')}</button>
        </form>
      </section>
    </>
  );
}

// ─── Enterprise ───────────────────────────────────────────────────────────────────────────────────────────────

interface LocalText { zh: string; en: string }
interface CatalogQuestion { id: string; title: LocalText; description: LocalText; answer: { type: string; values?: string[] }; purposes: string[]; max_age_days: number }
interface CatalogPack { id: string; title: LocalText; description: LocalText; questions: string[]; purposes: string[] }
interface CatalogMonitor { id: string; question: string; severity: string; title: LocalText }
interface Catalog { questions: CatalogQuestion[]; packs: CatalogPack[]; monitors: CatalogMonitor[] }

interface ConsentView {
  consent_id: string; state: string; bank: string; purpose: string; questions: string[]; expires_at: string;
  max_uses: number | null; uses: number; granted_at: string; ended_at: string | null; audit_index: number;
}

const text = (locale: Locale, value: LocalText) => (locale === 'en' ? value.en : value.zh);

function learns(t: Translate, question: CatalogQuestion): string {
  return question.answer.type === 'band'
    ? t('grant.learnsBand', { values: (question.answer.values ?? []).join(' / ') })
    : t('grant.learnsBoolean');
}

function Grant({ t, locale, identity, onGranted }: Context & { onGranted: () => void }) {
  const [error, run] = useAction(t);
  const [catalog, setCatalog] = useState<Catalog | undefined>(undefined);
  const [banks, setBanks] = useState<{ participant_id: string; name: string }[]>([]);
  const [bank, setBank] = useState('');
  const [purpose, setPurpose] = useState<ConsentPurpose>('pre_loan_investigation');
  const [chosen, setChosen] = useState<string[]>([]);
  const [days, setDays] = useState(90);
  const [maxUses, setMaxUses] = useState('');
  const [preview, setPreview] = useState<ReturnType<typeof consentClaims> | undefined>(undefined);
  const [receipt, setReceipt] = useState<{ consent: ConsentView; receipt: string } | undefined>(undefined);

  useEffect(() => {
    void run(async () => {
      setCatalog(await publicCall<Catalog>('/portal/catalog.json'));
      const listed = await signedCall<{ banks: { participant_id: string; name: string }[] }>(identity, 'GET', '/v1/banks');
      setBanks(listed.banks);
      setBank(listed.banks[0]?.participant_id ?? '');
    });
  }, []);
  if (!catalog) return <Alert text={error} />;
  const allowed = (purposes: string[]) => purposes.includes(purpose);
  const toggle = (id: string) => setChosen(chosen.includes(id) ? chosen.filter((item) => item !== id) : [...chosen, id]);

  return (
    <section aria-labelledby="grant-title">
      <h2 id="grant-title">{t('grant.title')}</h2>
      <Alert text={error} />
      {receipt ? (
        <div class="notice" role="status">
          <p>{t('grant.granted', { id: receipt.consent.consent_id, until: formatTime(locale, receipt.consent.expires_at) })}</p>
          <a download={`consent-receipt-${receipt.consent.consent_id}.jws`} href={`data:application/jose;charset=utf-8,${encodeURIComponent(receipt.receipt)}`}>{t('grant.downloadReceipt')}</a>
        </div>
      ) : null}
      <form onSubmit={(event) => {
        event.preventDefault();
        setPreview(consentClaims(identity.participantId, {
          uscc: identity.uscc ?? '', bank, purpose, questions: chosen, days, maxUses: maxUses === '' ? undefined : Number(maxUses),
        }));
      }}>
        <Field id="grant-bank" label={t('grant.bank')}>
          <select id="grant-bank" required value={bank} onChange={(event) => setBank(event.currentTarget.value)}>
            {banks.map((item) => <option value={item.participant_id}>{item.name} ({item.participant_id})</option>)}
          </select>
        </Field>
        <fieldset>
          <legend>{t('grant.purpose')}</legend>
          {PURPOSES.map((item) => (
            <div>
              <input type="radio" id={`purpose-${item}`} name="purpose" value={item} checked={purpose === item} onChange={() => { setPurpose(item); setChosen([]); }} />
              <label for={`purpose-${item}`}>{t(`purpose.${item}` as MessageKey)}</label>
              <span class="learns"> — {t(`purpose.${item}.explain` as MessageKey)}</span>
            </div>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('grant.questions')}</legend>
          <p class="learns">{t('grant.neverLearns')}</p>
          {catalog.packs.filter((pack) => allowed(pack.purposes)).map((pack) => (
            <div class="question">
              <input type="checkbox" id={`pick-${pack.id}`} checked={chosen.includes(pack.id)} onChange={() => toggle(pack.id)} />
              <label for={`pick-${pack.id}`}>{t('grant.pack')}: {text(locale, pack.title)}</label>
              <p class="learns">{text(locale, pack.description)}</p>
            </div>
          ))}
          {catalog.questions.filter((question) => allowed(question.purposes)).map((question) => (
            <div class="question">
              <input type="checkbox" id={`pick-${question.id}`} checked={chosen.includes(question.id)} onChange={() => toggle(question.id)} />
              <label for={`pick-${question.id}`}>{text(locale, question.title)}</label>
              <p class="learns">{text(locale, question.description)}</p>
              <p class="learns">{learns(t, question)}</p>
            </div>
          ))}
        </fieldset>
        <Field id="grant-days" label={t('grant.days')}>
          <input id="grant-days" type="number" min={1} max={3650} required value={days} onInput={(event) => setDays(Number(event.currentTarget.value))} />
        </Field>
        <Field id="grant-uses" label={t('grant.maxUses')}>
          <input id="grant-uses" type="number" min={1} value={maxUses} onInput={(event) => setMaxUses(event.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={chosen.length === 0 || bank === ''}>{t('grant.preview')}</button>
      </form>
      {preview ? (
        <div>
          <h3>{t('grant.previewTitle')}</h3>
          <p>{t('grant.previewExplain')}</p>
          <pre aria-label={t('grant.previewTitle')}>{JSON.stringify(preview, null, 2)}</pre>
          <button type="button" onClick={() => void run(async () => {
            const token = await signConsentToken(identity.privateKey, identity.participantId, pemToDer(identity.certificatePem), preview);
            setReceipt(await signedCall(identity, 'POST', '/v1/consents', { consent: token }));
            setPreview(undefined);
            setChosen([]);
            onGranted();
          })}>{t('grant.sign')}</button>
        </div>
      ) : null}
    </section>
  );
}

interface AccessEntry { index: number; kind: string; actor: string; recorded_at: string; entry: string }
type ProofState = 'verified' | 'failed' | 'pending';

/** The latest checkpoint, its note signature checked here with the log's public key. */
async function verifiedCheckpoint(identity: Identity) {
  const [note, key] = await Promise.all([signedCall<string>(identity, 'GET', '/v1/audit/checkpoint'), publicCall<string>('/v1/audit/note-key')]);
  const checkpoint = await openCheckpoint(note, key);
  if (!checkpoint) throw new PortalError('checkpoint_signature_invalid', 'the checkpoint is not signed by the audit log key');
  return { checkpoint, note };
}

/** Whether an entry is in the checkpointed tree: its own leaf hash, the gateway's proof, the signed root. */
async function proveEntry(identity: Identity, index: number, entryText: string, checkpoint: { size: number; rootHash: Uint8Array }): Promise<ProofState> {
  if (index >= checkpoint.size) return 'pending';
  const proof = await signedCall<{ proof: string[] }>(identity, 'GET', `/v1/audit/proofs/inclusion?index=${index}&tree_size=${checkpoint.size}`);
  const leaf = await leafHashOf(new TextEncoder().encode(entryText));
  return (await verifyInclusion(index, checkpoint.size, leaf, proof.proof.map(fromBase64), checkpoint.rootHash)) ? 'verified' : 'failed';
}

function ProofBadge({ t, state }: { t: Translate; state: ProofState | undefined }) {
  if (state === undefined) return <span>…</span>;
  return <span class={state === 'verified' ? 'ok' : state === 'failed' ? 'bad' : ''}>{t(`proof.${state}` as MessageKey)}</span>;
}

function Accesses({ t, locale, identity, consentId }: Context & { consentId: string }) {
  const [error, run] = useAction(t);
  const [entries, setEntries] = useState<AccessEntry[]>([]);
  const [proofs, setProofs] = useState<Record<number, ProofState>>({});
  useEffect(() => {
    void run(async () => {
      const found = await signedCall<{ entries: AccessEntry[] }>(identity, 'GET', `/v1/consents/${encodeURIComponent(consentId)}/accesses`);
      setEntries(found.entries);
      const { checkpoint } = await verifiedCheckpoint(identity);
      const states: Record<number, ProofState> = {};
      for (const entry of found.entries) states[entry.index] = await proveEntry(identity, entry.index, entry.entry, checkpoint);
      setProofs(states);
    });
  }, [consentId]);
  return (
    <div>
      <Alert text={error} />
      <table>
        <caption>{t('watch.accesses')}</caption>
        <thead><tr><th scope="col">{t('watch.when')}</th><th scope="col">{t('watch.kind')}</th><th scope="col">{t('watch.who')}</th><th scope="col">{t('watch.what')}</th><th scope="col">{t('watch.proof')}</th></tr></thead>
        <tbody>
          {entries.map((entry) => {
            // An entry's details are members of the entry itself, beside its envelope (kind, at, actor, ...).
            const details = JSON.parse(entry.entry) as Record<string, unknown>;
            const questions = Array.isArray(details['questions'])
              // Answered entries list {id, answer, ...}; refused ones the ids asked.
              ? (details['questions'] as (string | { id: string; answer: unknown })[]).map((question) => (typeof question === 'string' ? question : `${question.id} = ${String(question.answer)}`)).join('; ')
              : '';
            const reference = typeof details['loan_reference'] === 'string' ? ` (${t('watch.loan')} ${details['loan_reference']})` : '';
            const reason = typeof details['code'] === 'string' ? ` ${details['code']}` : '';
            return (
              <tr data-index={entry.index}>
                <td>{formatTime(locale, entry.recorded_at)}</td>
                <td>{t(`kind.${entry.kind}` as MessageKey)}</td>
                <td>{entry.actor}</td>
                <td>{questions}{reference}{reason}</td>
                <td><ProofBadge t={t} state={proofs[entry.index]} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Consents(context: Context & { version: number }) {
  const { t, locale, identity, version } = context;
  const [error, run] = useAction(t);
  const [consents, setConsents] = useState<ConsentView[]>([]);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const load = () => run(async () => {
    setConsents((await signedCall<{ consents: ConsentView[] }>(identity, 'GET', '/v1/consents?limit=500')).consents);
  });
  useEffect(() => { void load(); }, [version]);
  return (
    <section aria-labelledby="watch-title">
      <h2 id="watch-title">{t('watch.title')}</h2>
      <Alert text={error} />
      <div role="status">{notice ? <p class="notice">{notice}</p> : null}</div>
      <table>
        <thead><tr><th scope="col">{t('watch.consent')}</th><th scope="col">{t('grant.bank')}</th><th scope="col">{t('grant.purpose')}</th><th scope="col">{t('watch.state')}</th><th scope="col">{t('watch.until')}</th><th scope="col">{t('watch.uses')}</th><th scope="col">{t('watch.actions')}</th></tr></thead>
        <tbody>
          {consents.map((consent) => (
            <tr data-consent={consent.consent_id}>
              <td><code>{consent.consent_id}</code></td>
              <td>{consent.bank}</td>
              <td>{t(`purpose.${consent.purpose}` as MessageKey)}</td>
              <td>{t(`state.${consent.state}` as MessageKey)}</td>
              <td>{formatTime(locale, consent.expires_at)}</td>
              <td>{consent.uses}{consent.max_uses === null ? '' : ` / ${consent.max_uses}`}</td>
              <td>
                <button type="button" aria-expanded={open === consent.consent_id} onClick={() => setOpen(open === consent.consent_id ? undefined : consent.consent_id)}>{t('watch.show')}</button>
                {consent.state === 'active' ? (
                  confirming === consent.consent_id ? (
                    <>
                      <button type="button" class="danger" onClick={() => void run(async () => {
                        await signedCall(identity, 'POST', `/v1/consents/${encodeURIComponent(consent.consent_id)}/revocation`);
                        setConfirming(undefined);
                        setNotice(t('watch.revoked', { bank: consent.bank }));
                        await load();
                      })}>{t('watch.confirmRevoke')}</button>
                      <button type="button" onClick={() => setConfirming(undefined)}>{t('cancel')}</button>
                    </>
                  ) : <button type="button" class="danger" onClick={() => setConfirming(consent.consent_id)}>{t('watch.revoke')}</button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open ? <Accesses {...context} consentId={open} /> : null}
    </section>
  );
}

/** The members of an `alert.raised` entry (docs/api.md): what the gateway signed and sent a bank, never a record value. */
interface AlertEntry {
  at: string; bank: string; type: string; consent_id?: string; rule?: string; severity?: string; question?: string;
  old_answer?: unknown; new_answer?: unknown; disputed?: boolean; reason?: string; objection_id?: string; questions?: string[];
}

/** What an alert said, in words: the rule's and the question's titles from the public catalog, their ids failing that. */
function alertDetails(t: Translate, locale: Locale, alert: AlertEntry, catalog: Catalog | undefined): string {
  if (alert.type === 'alert') {
    const rule = catalog?.monitors.find((monitor) => monitor.id === alert.rule);
    const question = catalog?.questions.find((candidate) => candidate.id === alert.question);
    const change = t('alerts.change', { question: question ? text(locale, question.title) : alert.question ?? '', from: String(alert.old_answer ?? '—'), to: String(alert.new_answer ?? '—') });
    const said = t('alerts.rule', { rule: rule ? text(locale, rule.title) : alert.rule ?? '', severity: t(`severity.${alert.severity ?? ''}` as MessageKey), change });
    return alert.disputed ? `${said} — ${t('alerts.disputed')}` : said;
  }
  if (alert.type === 'answer.corrected') return t('alerts.corrected', { objection: alert.objection_id ?? '', questions: (alert.questions ?? []).join(', ') });
  return t('alerts.reason', { reason: alert.reason ?? '' });
}

/**
 * The alerts the gateway pushed to banks about this enterprise: its `alert.raised` entries in the audit log, which
 * the gateway writes when it signs an event for a bank's webhook or feed. The gateway answers an enterprise with the
 * entries about its own USCC only, and records the read; each is proved against the signed checkpoint here.
 */
function AlertsAboutMe({ t, locale, identity, version }: Context & { version: number }) {
  const [error, run] = useAction(t);
  const [entries, setEntries] = useState<{ index: number; entry: string }[] | undefined>(undefined);
  const [proofs, setProofs] = useState<Record<number, ProofState>>({});
  const [catalog, setCatalog] = useState<Catalog | undefined>(undefined);
  useEffect(() => {
    void run(async () => {
      setCatalog(await publicCall<Catalog>('/portal/catalog.json'));
      const found = await signedCall<{ entries: { index: number; entry: string }[] }>(identity, 'GET', '/v1/audit/entries?kind=alert.raised&limit=1000');
      setEntries(found.entries);
      if (found.entries.length === 0) return;
      const { checkpoint } = await verifiedCheckpoint(identity);
      const states: Record<number, ProofState> = {};
      for (const entry of found.entries) states[entry.index] = await proveEntry(identity, entry.index, entry.entry, checkpoint);
      setProofs(states);
    });
  }, [version]);
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">{t('alerts.title')}</h2>
      <p>{t('alerts.explain')}</p>
      <Alert text={error} />
      {entries && entries.length === 0 ? <p>{t('alerts.none')}</p> : null}
      {entries && entries.length > 0 ? (
        <table>
          <thead><tr><th scope="col">{t('watch.when')}</th><th scope="col">{t('grant.bank')}</th><th scope="col">{t('watch.kind')}</th><th scope="col">{t('watch.consent')}</th><th scope="col">{t('watch.what')}</th><th scope="col">{t('watch.proof')}</th></tr></thead>
          <tbody>
            {entries.map((entry) => {
              const alert = JSON.parse(entry.entry) as AlertEntry;
              return (
                <tr data-alert={entry.index}>
                  <td>{formatTime(locale, alert.at)}</td>
                  <td>{alert.bank}</td>
                  <td>{t(`alertType.${alert.type}` as MessageKey)}</td>
                  <td>{alert.consent_id ? <code>{alert.consent_id}</code> : '—'}</td>
                  <td>{alertDetails(t, locale, alert, catalog)}</td>
                  <td><ProofBadge t={t} state={proofs[entry.index]} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** Policy texts are given in both languages (policies/support/*.json). */
interface Localized { zh: string; en: string }
interface SupportPolicySummary { id: string; version: number; title: Localized; department: Localized; description: Localized }
interface EligibilityItem { policy: string; version: number; eligibility: 'eligible' | 'not_eligible' | 'unknown' }

/**
 * Support policies (政策直达, docs/support.md): the enterprise's eligibility, evaluated inside the gateway over its own
 * records, and — when it chooses — the same signed for a bank it names, to pass on with a loan application.
 */
function SupportPolicies({ t, locale, identity }: Context) {
  const text = (localized: Localized | undefined) => (localized ? localized[locale === 'en' ? 'en' : 'zh'] : '');
  const [error, run] = useAction(t);
  const [policies, setPolicies] = useState<SupportPolicySummary[]>([]);
  const [results, setResults] = useState<EligibilityItem[] | undefined>(undefined);
  const [banks, setBanks] = useState<{ participant_id: string; name: string }[]>([]);
  const [bank, setBank] = useState('');
  const [signedFor, setSignedFor] = useState<string | undefined>(undefined);
  useEffect(() => {
    void run(async () => {
      setPolicies((await publicCall<{ policies: SupportPolicySummary[] }>('/v1/support-policies')).policies);
      setResults((await signedCall<{ policies: EligibilityItem[] }>(identity, 'GET', '/v1/support-policies/eligibility')).policies);
      const listed = (await signedCall<{ banks: { participant_id: string; name: string }[] }>(identity, 'GET', '/v1/banks')).banks;
      setBanks(listed);
      setBank(listed[0]?.participant_id ?? '');
    });
  }, []);
  const passOn = () => run(async () => {
    const given = await signedCall<{ eligibility: string }>(identity, 'GET', `/v1/support-policies/eligibility?bank=${encodeURIComponent(bank)}`);
    downloadFile(`eligibility-${bank}.jws`, [given.eligibility], 'application/jose');
    setSignedFor(bank);
  });
  return (
    <section aria-labelledby="support-title">
      <h2 id="support-title">{t('support.title')}</h2>
      <p>{t('support.explain')}</p>
      <Alert text={error} />
      {results ? (
        <table>
          <thead><tr><th scope="col">{t('support.policy')}</th><th scope="col">{t('support.department')}</th><th scope="col">{t('support.result')}</th></tr></thead>
          <tbody>
            {results.map((result) => {
              const policy = policies.find((found) => found.id === result.policy);
              return (
                <tr data-policy={result.policy} data-eligibility={result.eligibility}>
                  <td>{policy ? text(policy.title) : result.policy}<br /><small>{text(policy?.description)}</small></td>
                  <td>{text(policy?.department)}</td>
                  <td>{t(`support.${result.eligibility}` as MessageKey)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {banks.length > 0 ? (
        <form onSubmit={(event) => { event.preventDefault(); void passOn(); }}>
          <Field id="support-bank" label={t('support.bank')}>
            <select id="support-bank" value={bank} onChange={(event) => setBank(event.currentTarget.value)}>
              {banks.map((found) => <option value={found.participant_id}>{found.name} ({found.participant_id})</option>)}
            </select>
          </Field>
          <button type="submit">{t('support.passOn')}</button>
        </form>
      ) : null}
      {signedFor ? <p role="status">{t('support.passed', { bank: signedFor })}</p> : null}
    </section>
  );
}

function EnterprisePages(context: Context) {
  const [page, setPage] = useState<'grant' | 'watch' | 'policies'>('grant');
  const [version, setVersion] = useState(0);
  return (
    <>
      <Tabs t={context.t} pages={['grant', 'watch', 'policies']} page={page} onPage={setPage} />
      {page === 'grant' ? <Grant {...context} onGranted={() => setVersion(version + 1)} /> : null}
      {page === 'watch' ? (
        <>
          <Consents {...context} version={version} />
          <AlertsAboutMe {...context} version={version} />
        </>
      ) : null}
      {page === 'policies' ? <SupportPolicies {...context} /> : null}
    </>
  );
}

// ─── Operator ─────────────────────────────────────────────────────────────────────────────────────────────────

interface ParticipantSummary { participant_id: string; role: string; name: string; status: string; uscc: string | null; not_after: string }
interface CodeSummary { code_id: string; uscc: string; name: string; issued_at: string; expires_at: string; used_at: string | null; used_by: string | null }

/** GET /v1/status: ids, dates and sizes, never key material (docs/api.md). */
interface GatewayStatus {
  ready: boolean; not_ready: string | null; engine: string;
  audit_log: { size: number; halted: string | null; latest_checkpoint: { tree_size: number; created_at: string } | null };
  signing_keys: { kid: string; created_at: string; retired_at: string | null; current: boolean }[];
  data_keys: { data_key_id: number; created_at: string; current: boolean }[];
  ca_certificate: { subject: string; not_after: string; sha256: string };
}
interface BatchSummary {
  batch_id: string; dataset: string; source: string; format: string; row_count: number; as_of: string; received_at: string;
  content_sha256: string; audit_index: number | null;
}
/** The CA certificate is flagged this long before it expires: renewing it means reissuing every participant's. */
const CA_WARNING_DAYS = 90;

function StatusSection({ t, locale, status }: { t: Translate; locale: Locale; status: GatewayStatus }) {
  const caDaysLeft = Math.floor((Date.parse(status.ca_certificate.not_after) - Date.now()) / 86_400_000);
  const checkpoint = status.audit_log.latest_checkpoint;
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">{t('operator.health')}</h2>
      <dl>
        <dt>{t('operator.readiness')}</dt>
        <dd data-testid="readiness" class={status.ready ? 'ok' : 'bad'}>{status.ready ? t('status.ready') : t('status.notReady', { code: status.not_ready ?? '' })}</dd>
        <dt>{t('status.engine')}</dt><dd>{status.engine}</dd>
        <dt>{t('status.auditLog')}</dt>
        <dd>
          {t('status.auditSize', { size: status.audit_log.size })}
          {status.audit_log.halted ? <strong class="bad"> {t('status.halted', { code: status.audit_log.halted })}</strong> : null}
        </dd>
        <dt>{t('status.checkpoint')}</dt>
        <dd>{checkpoint ? t('status.checkpointAt', { size: checkpoint.tree_size, at: formatTime(locale, checkpoint.created_at) }) : '—'}</dd>
        <dt>{t('status.ca')}</dt>
        <dd class={caDaysLeft < CA_WARNING_DAYS ? 'bad' : ''}>{t('status.caExpires', { at: formatTime(locale, status.ca_certificate.not_after), days: caDaysLeft })}</dd>
      </dl>
      <table>
        <caption>{t('status.signingKeys')}</caption>
        <thead><tr><th scope="col">kid</th><th scope="col">{t('status.created')}</th><th scope="col">{t('status.retired')}</th><th scope="col">{t('watch.state')}</th></tr></thead>
        <tbody>
          {status.signing_keys.map((key) => (
            <tr data-kid={key.kid}>
              <td><code>{key.kid}</code></td>
              <td>{formatTime(locale, key.created_at)}</td>
              <td>{key.retired_at ? formatTime(locale, key.retired_at) : '—'}</td>
              <td>{key.current ? t('status.current') : t('status.retiredKey')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>{t('status.dataKeys')}</caption>
        <thead><tr><th scope="col">{t('status.dataKeyId')}</th><th scope="col">{t('status.created')}</th><th scope="col">{t('watch.state')}</th></tr></thead>
        <tbody>
          {status.data_keys.map((key) => (
            <tr data-data-key={key.data_key_id}><td>{key.data_key_id}</td><td>{formatTime(locale, key.created_at)}</td><td>{key.current ? t('status.current') : t('status.retiredKey')}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function BatchesSection({ t, locale, batches }: { t: Translate; locale: Locale; batches: BatchSummary[] }) {
  return (
    <section aria-labelledby="batches-title">
      <h2 id="batches-title">{t('batches.title')}</h2>
      <p>{t('batches.explain')}</p>
      {batches.length === 0 ? <p>{t('batches.none')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('batches.received')}</th><th scope="col">{t('batches.id')}</th><th scope="col">{t('batches.dataset')}</th><th scope="col">{t('batches.source')}</th><th scope="col">{t('batches.rows')}</th><th scope="col">{t('batches.asOf')}</th><th scope="col">{t('batches.hash')}</th><th scope="col">{t('batches.receipt')}</th></tr></thead>
          <tbody>
            {batches.map((batch) => (
              <tr data-batch={batch.batch_id}>
                <td>{formatTime(locale, batch.received_at)}</td>
                <td><code>{batch.batch_id}</code></td>
                <td>{batch.dataset}</td>
                <td>{batch.source}</td>
                <td>{batch.row_count}</td>
                <td>{batch.as_of}</td>
                <td><code title={batch.content_sha256}>{batch.content_sha256.slice(0, 16)}…</code></td>
                <td>{batch.audit_index === null ? t('batches.noReceipt') : t('batches.auditIndex', { index: batch.audit_index })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface MisuseFlagSummary {
  audit_index: number; rule: string; bank: string; severity: string; evidence: Record<string, number>; window_from: string; window_to: string; suspended: boolean;
}

/** The flags the misuse rules raised (docs/misuse.md): banks and counts only, never an enterprise. */
function MisuseSection({ t, locale, flags }: { t: Translate; locale: Locale; flags: MisuseFlagSummary[] }) {
  return (
    <section aria-labelledby="misuse-title">
      <h2 id="misuse-title">{t('misuse.title')}</h2>
      <p>{t('misuse.explain')}</p>
      {flags.length === 0 ? <p>{t('misuse.none')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('misuse.when')}</th><th scope="col">{t('misuse.rule')}</th><th scope="col">{t('misuse.bank')}</th><th scope="col">{t('misuse.severity')}</th><th scope="col">{t('misuse.evidence')}</th><th scope="col">{t('misuse.suspended')}</th></tr></thead>
          <tbody>
            {flags.map((flag) => (
              <tr data-flag={flag.audit_index}>
                <td>{formatTime(locale, flag.window_to)}</td>
                <td><code>{flag.rule}</code></td>
                <td>{flag.bank}</td>
                <td>{flag.severity}</td>
                <td>{Object.entries(flag.evidence).map(([name, value]) => `${name}=${value}`).join(', ')}</td>
                <td>{flag.suspended ? t('misuse.yes') : t('misuse.no')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function OperatorPages({ t, locale, identity }: Context) {
  const [error, run] = useAction(t);
  const [participants, setParticipants] = useState<ParticipantSummary[]>([]);
  const [codes, setCodes] = useState<CodeSummary[]>([]);
  const [issued, setIssued] = useState<{ code: string; uscc: string; expires_at: string } | undefined>(undefined);
  const [uscc, setUscc] = useState('');
  const [name, setName] = useState('');
  const [status, setStatus] = useState<GatewayStatus | undefined>(undefined);
  const [batches, setBatches] = useState<BatchSummary[]>([]);
  const [flags, setFlags] = useState<MisuseFlagSummary[]>([]);
  const [newRole, setNewRole] = useState('bank');
  const [newName, setNewName] = useState('');
  const [newUscc, setNewUscc] = useState('');
  const [newDatasets, setNewDatasets] = useState('');
  const [csr, setCsr] = useState('');
  const [addedId, setAddedId] = useState<string | undefined>(undefined);
  const load = () => run(async () => {
    setParticipants((await signedCall<{ participants: ParticipantSummary[] }>(identity, 'GET', '/v1/participants')).participants);
    setCodes((await signedCall<{ codes: CodeSummary[] }>(identity, 'GET', '/v1/enrolment-codes')).codes);
    setStatus(await signedCall<GatewayStatus>(identity, 'GET', '/v1/status'));
    setBatches((await signedCall<{ batches: BatchSummary[] }>(identity, 'GET', '/v1/batches?limit=50')).batches);
    setFlags((await signedCall<{ flags: MisuseFlagSummary[] }>(identity, 'GET', '/v1/misuse-flags')).flags);
  });
  useEffect(() => { void load(); }, []);
  const change = (participantId: string, action: 'suspend' | 'resume' | 'revoke') => run(async () => {
    await signedCall(identity, 'POST', `/v1/participants/${encodeURIComponent(participantId)}/status`, { change: action });
    await load();
  });
  return (
    <>
      <Alert text={error} />
      {status ? <StatusSection t={t} locale={locale} status={status} /> : null}
      <BatchesSection t={t} locale={locale} batches={batches} />
      <MisuseSection t={t} locale={locale} flags={flags} />
      <section aria-labelledby="codes-title">
        <h2 id="codes-title">{t('operator.codes')}</h2>
        <form onSubmit={(event) => { event.preventDefault(); void run(async () => {
          setIssued(await signedCall(identity, 'POST', '/v1/enrolment-codes', { uscc: uscc.trim(), name: name.trim() }));
          await load();
        }); }}>
          <Field id="code-uscc" label={t('operator.uscc')}>
            <input id="code-uscc" required maxLength={18} value={uscc} onInput={(event) => setUscc(event.currentTarget.value)} />
          </Field>
          <Field id="code-name" label={t('operator.name')}>
            <input id="code-name" required maxLength={64} value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </Field>
          <button type="submit">{t('operator.issue')}</button>
        </form>
        <div role="status">{issued ? <p class="notice">{t('operator.issued', { uscc: issued.uscc, until: formatTime(locale, issued.expires_at) })} <strong data-testid="issued-code">{issued.code}</strong></p> : null}</div>
        <table>
          <thead><tr><th scope="col">{t('operator.uscc')}</th><th scope="col">{t('operator.name')}</th><th scope="col">{t('watch.until')}</th><th scope="col">{t('operator.used')}</th></tr></thead>
          <tbody>{codes.map((code) => <tr><td>{code.uscc}</td><td>{code.name}</td><td>{formatTime(locale, code.expires_at)}</td><td>{code.used_by ?? '—'}</td></tr>)}</tbody>
        </table>
      </section>
      <section aria-labelledby="participants-title">
        <h2 id="participants-title">{t('operator.participants')}</h2>
        <form onSubmit={(event) => { event.preventDefault(); void run(async () => {
          const added = await signedCall<{ participant_id: string }>(identity, 'POST', '/v1/participants', {
            role: newRole, name: newName.trim(), csr,
            ...(newRole === 'enterprise' ? { uscc: newUscc.trim() } : {}),
            ...(newRole === 'source' ? { datasets: newDatasets.split(',').map((item) => item.trim()).filter(Boolean) } : {}),
          });
          setAddedId(added.participant_id);
          await load();
        }); }}>
          <Field id="add-role" label={t('operator.role')}>
            <select id="add-role" value={newRole} onChange={(event) => setNewRole(event.currentTarget.value)}>
              {['bank', 'source', 'enterprise', 'auditor', 'operator'].map((role) => <option value={role}>{t(`role.${role}` as MessageKey)}</option>)}
            </select>
          </Field>
          <Field id="add-name" label={t('operator.name')}>
            <input id="add-name" required maxLength={64} value={newName} onInput={(event) => setNewName(event.currentTarget.value)} />
          </Field>
          {newRole === 'enterprise' ? (
            <Field id="add-uscc" label={t('operator.uscc')}>
              <input id="add-uscc" required maxLength={18} value={newUscc} onInput={(event) => setNewUscc(event.currentTarget.value)} />
            </Field>
          ) : null}
          {newRole === 'source' ? (
            <Field id="add-datasets" label={t('operator.datasets')}>
              <input id="add-datasets" required value={newDatasets} onInput={(event) => setNewDatasets(event.currentTarget.value)} />
            </Field>
          ) : null}
          <Field id="add-csr" label={t('operator.csr')}>
            <input id="add-csr" type="file" accept=".pem,.csr" required onChange={async (event) => { const file = event.currentTarget.files?.[0]; if (file) setCsr(await file.text()); }} />
          </Field>
          <button type="submit">{t('operator.add')}</button>
        </form>
        <div role="status">{addedId ? <p class="notice">{t('operator.added', { id: addedId })}</p> : null}</div>
        <table>
          <thead><tr><th scope="col">{t('import.participant')}</th><th scope="col">{t('operator.role')}</th><th scope="col">{t('operator.name')}</th><th scope="col">{t('watch.state')}</th><th scope="col">{t('watch.actions')}</th></tr></thead>
          <tbody>
            {participants.map((participant) => (
              <tr data-participant={participant.participant_id}>
                <td><code>{participant.participant_id}</code></td>
                <td>{participant.role}</td>
                <td>{participant.name}</td>
                <td>{t(`status.${participant.status}` as MessageKey)}</td>
                <td>
                  {participant.status === 'active' && participant.participant_id !== identity.participantId ? <button type="button" onClick={() => void change(participant.participant_id, 'suspend')}>{t('operator.suspend')}</button> : null}
                  {participant.status === 'suspended' ? <button type="button" onClick={() => void change(participant.participant_id, 'resume')}>{t('operator.resume')}</button> : null}
                  {participant.status !== 'revoked' && participant.participant_id !== identity.participantId ? (
                    <button type="button" class="danger" onClick={() => { if (confirm(t('operator.revokeConfirm', { id: participant.participant_id }))) void change(participant.participant_id, 'revoke'); }}>{t('operator.revoke')}</button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

// ─── Auditor ──────────────────────────────────────────────────────────────────────────────────────────────────

const SAVED_CHECKPOINT = 'portal.savedCheckpoint';

/** Saves text made in this page as a file (a blob: URL, released once the download has started). */
function downloadFile(name: string, parts: readonly string[], type: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([...parts], { type }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}
const LOG_FILTERS = ['kind', 'participant', 'subject', 'consent', 'from', 'to'] as const;
type LogFilter = (typeof LOG_FILTERS)[number];
const FILTER_EXAMPLES: Record<LogFilter, string> = {
  kind: 'verification.answered', participant: 'bank-jinan-01', subject: '91350100M000100Y43', consent: '', from: '2026-12-01', to: '2026-12-31',
};

interface BankActivity { bank: string; answered: number; refused: number; questions: number; days: number }

/** Per bank, over the entries shown: questions answered per day on which it asked (Beijing days), and the share of refused items. */
function bankActivity(entries: readonly { entry: string }[]): BankActivity[] {
  const byBank = new Map<string, { answered: number; refused: number; questions: number; days: Set<string> }>();
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
  for (const { entry } of entries) {
    const parsed = JSON.parse(entry) as { kind: string; actor: string; at: string; questions?: unknown[] };
    if (parsed.kind !== 'verification.answered' && parsed.kind !== 'verification.refused') continue;
    const activity = byBank.get(parsed.actor) ?? { answered: 0, refused: 0, questions: 0, days: new Set<string>() };
    if (parsed.kind === 'verification.answered') {
      activity.answered += 1;
      activity.questions += parsed.questions?.length ?? 0;
    } else {
      activity.refused += 1;
    }
    activity.days.add(day.format(new Date(parsed.at)));
    byBank.set(parsed.actor, activity);
  }
  return [...byBank].map(([bank, activity]) => ({ bank, answered: activity.answered, refused: activity.refused, questions: activity.questions, days: activity.days.size }));
}

function AuditorPages({ t, locale, identity }: Context) {
  const [error, run] = useAction(t);
  const [status, setStatus] = useState<{ text: string; ok: boolean } | undefined>(undefined);
  const [entries, setEntries] = useState<{ index: number; entry: string }[]>([]);
  const [proofs, setProofs] = useState<Record<number, ProofState>>({});
  const [filters, setFilters] = useState<Record<LogFilter, string>>({ kind: '', participant: '', subject: '', consent: '', from: '', to: '' });
  const [checkpoint, setCheckpoint] = useState<{ size: number; rootHash: Uint8Array; note: string } | undefined>(undefined);

  /**
   * Whether the current checkpoint extends a saved one: the saved note's signature, then the gateway's consistency
   * proof between the two sizes, checked here. A saved tree larger than the current one is a log rolled back.
   */
  const checkAgainst = async (saved: string, current: { size: number; rootHash: Uint8Array }) => {
    const previous = await openCheckpoint(saved, await publicCall<string>('/v1/audit/note-key'));
    if (!previous) throw new PortalError('checkpoint_signature_invalid', 'the saved checkpoint is not signed by the audit log key');
    let consistent = false;
    if (previous.size <= current.size) {
      const proof = await signedCall<{ proof: string[] }>(identity, 'GET', `/v1/audit/proofs/consistency?first=${previous.size}&second=${current.size}`);
      consistent = await verifyConsistency(previous.size, current.size, previous.rootHash, current.rootHash, proof.proof.map(fromBase64));
    }
    setStatus({ ok: consistent, text: t(consistent ? 'audit.consistent' : 'audit.inconsistent', { from: previous.size, to: current.size }) });
  };

  const verifyNow = () => run(async () => {
    const { checkpoint: opened, note } = await verifiedCheckpoint(identity);
    setCheckpoint({ ...opened, note });
    const saved = localStorage.getItem(SAVED_CHECKPOINT);
    if (saved) await checkAgainst(saved, opened);
    else setStatus({ ok: true, text: t('audit.signatureOk', { size: opened.size }) });
  });

  /** A checkpoint kept outside the browser (a file saved earlier, or one a witness or another auditor passed on). */
  const checkFile = (file: File) => run(async () => {
    setStatus(undefined);
    const { checkpoint: opened, note } = await verifiedCheckpoint(identity);
    setCheckpoint({ ...opened, note });
    await checkAgainst(await file.text(), opened);
  });

  const browse = () => run(async () => {
    const query = new URLSearchParams({ limit: '1000' });
    for (const [name, value] of Object.entries(filters)) if (value.trim()) query.set(name, value.trim());
    const found = await signedCall<{ entries: { index: number; entry: string }[] }>(identity, 'GET', `/v1/audit/entries?${query.toString()}`);
    setEntries(found.entries);
    setProofs({});
  });

  // Each entry's exact bytes, one a line: hashing a line gives the leaf its inclusion proof is about.
  const exportNdjson = () => downloadFile('audit-entries.ndjson', entries.map((entry) => `${entry.entry}\n`), 'application/x-ndjson');

  return (
    <>
      <Alert text={error} />
      <section aria-labelledby="checkpoint-title">
        <h2 id="checkpoint-title">{t('audit.checkpoint')}</h2>
        <button type="button" onClick={() => void verifyNow()}>{t('audit.verify')}</button>
        <button type="button" disabled={!checkpoint} onClick={() => { if (checkpoint) { localStorage.setItem(SAVED_CHECKPOINT, checkpoint.note); setStatus({ ok: true, text: t('audit.saved', { size: checkpoint.size }) }); } }}>{t('audit.save')}</button>
        <button type="button" disabled={!checkpoint} onClick={() => { if (checkpoint) downloadFile(`checkpoint-${checkpoint.size}.txt`, [checkpoint.note], 'text/plain;charset=utf-8'); }}>{t('audit.downloadCheckpoint')}</button>
        <Field id="checkpoint-file" label={t('audit.checkFile')}>
          <input id="checkpoint-file" type="file" accept=".txt,text/plain" onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            if (file) void checkFile(file);
          }} />
        </Field>
        <div role="status">{status ? <p class={status.ok ? 'notice' : 'error'}>{status.text}</p> : null}</div>
        {checkpoint ? <pre>{checkpoint.note}</pre> : null}
      </section>
      {entries.length > 0 ? (
        <section aria-labelledby="activity-title">
          <h2 id="activity-title">{t('audit.activity')}</h2>
          <table>
            <thead><tr><th scope="col">{t('role.bank')}</th><th scope="col">{t('audit.answered')}</th><th scope="col">{t('audit.refused')}</th><th scope="col">{t('audit.refusalRate')}</th><th scope="col">{t('audit.questionsPerDay')}</th></tr></thead>
            <tbody>
              {bankActivity(entries).map((activity) => (
                <tr data-bank={activity.bank}>
                  <td>{activity.bank}</td>
                  <td>{activity.answered}</td>
                  <td>{activity.refused}</td>
                  <td>{`${Math.round((100 * activity.refused) / (activity.answered + activity.refused))}%`}</td>
                  <td>{(activity.questions / activity.days).toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
      <section aria-labelledby="log-title">
        <h2 id="log-title">{t('audit.log')}</h2>
        <form onSubmit={(event) => { event.preventDefault(); void browse(); }}>
          {LOG_FILTERS.map((name) => (
            <Field id={`log-${name}`} label={t(`audit.filter.${name}` as MessageKey)}>
              <input id={`log-${name}`} value={filters[name]} placeholder={FILTER_EXAMPLES[name]} onInput={(event) => setFilters({ ...filters, [name]: event.currentTarget.value })} />
            </Field>
          ))}
          <button type="submit">{t('audit.browse')}</button>
          <button type="button" disabled={entries.length === 0} onClick={exportNdjson}>{t('audit.export')}</button>
        </form>
        <table>
          <thead><tr><th scope="col">#</th><th scope="col">{t('watch.when')}</th><th scope="col">{t('watch.kind')}</th><th scope="col">{t('watch.who')}</th><th scope="col">{t('watch.proof')}</th></tr></thead>
          <tbody>
            {entries.map((entry) => {
              const parsed = JSON.parse(entry.entry) as { at: string; kind: string; actor: string };
              return (
                <tr data-index={entry.index}>
                  <td>{entry.index}</td>
                  <td>{formatTime(locale, parsed.at)}</td>
                  <td>{parsed.kind}</td>
                  <td>{parsed.actor}</td>
                  <td>
                    {proofs[entry.index] ? <ProofBadge t={t} state={proofs[entry.index]} /> : (
                      <button type="button" disabled={!checkpoint} onClick={() => void run(async () => {
                        if (!checkpoint) return;
                        setProofs({ ...proofs, [entry.index]: await proveEntry(identity, entry.index, entry.entry, checkpoint) });
                      })}>{t('audit.prove')}</button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </>
  );
}

// ─── Frame ────────────────────────────────────────────────────────────────────────────────────────────────────

function Tabs<P extends string>({ t, pages, page, onPage }: { t: Translate; pages: readonly P[]; page: P; onPage: (page: P) => void }) {
  return (
    <nav aria-label={t('nav.label')}>
      {pages.map((item) => <button type="button" aria-current={item === page ? 'page' : undefined} onClick={() => onPage(item)}>{t(`nav.${item}` as MessageKey)}</button>)}
    </nav>
  );
}

function Portal() {
  const [locale, setLocale] = useState<Locale>(initialLocale());
  const [identity, setIdentity] = useState<Identity | undefined | null>(null);
  const t = translator(locale);
  useEffect(() => {
    rememberLocale(locale);
    document.title = t('title');
  }, [locale]);
  useEffect(() => { void loadIdentity().then((found) => setIdentity(found)); }, []);
  const context = identity ? { t, locale, identity } : undefined;
  return (
    <>
      <header>
        <h1>{t('title')}</h1>
        <div>
          {identity ? <span>{t('signedInAs', { id: identity.participantId, role: t(`role.${identity.role}` as MessageKey) })} </span> : null}
          <button type="button" lang={locale === 'en' ? 'zh-CN' : 'en'} onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>{t('switchLanguage')}</button>
          {identity ? <button type="button" onClick={() => { if (confirm(t('forget.confirm'))) void forgetIdentity().then(() => setIdentity(undefined)); }}>{t('forget')}</button> : null}
        </div>
      </header>
      <main>
        {identity === null ? <p>…</p> : null}
        {identity === undefined ? <Welcome t={t} onIdentity={setIdentity} /> : null}
        {context && context.identity.role === 'enterprise' ? <EnterprisePages {...context} /> : null}
        {context && context.identity.role === 'operator' ? <OperatorPages {...context} /> : null}
        {context && context.identity.role === 'auditor' ? <AuditorPages {...context} /> : null}
        {context && !['enterprise', 'operator', 'auditor'].includes(context.identity.role) ? <p>{t('noPortal')}</p> : null}
      </main>
    </>
  );
}

render(<Portal />, document.getElementById('portal')!);
