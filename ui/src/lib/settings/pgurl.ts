// The source form's connection fields and the `postgres://` URL they stand for. Pasting a URL fills the fields; a
// password inside it is handed back separately (it belongs in the OS keychain, never in the stored URL). The core
// validates the URL it receives; this module only splits and joins it.

/** The SSL modes the core accepts in `sslmode` (README, "Source URLs"). */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number] | '';

/** PostgreSQL's port when the URL names none. */
export const DEFAULT_PG_PORT = 5432;

export interface PgFields {
  host: string;
  /** Empty for the default port. */
  port: string;
  database: string;
  user: string;
  sslmode: SslMode;
  sslrootcert: string;
}

export const EMPTY_FIELDS: PgFields = {
  host: '',
  port: '',
  database: '',
  user: '',
  sslmode: '',
  sslrootcert: '',
};

export type Pasted =
  { ok: true; fields: PgFields; password: string | null; ignored: string[] } | { ok: false; message: string };

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Splits a pasted `postgres://` (or `postgresql://`) URL into the form's fields and the password, if any. */
export function parsePgUrl(text: string): Pasted {
  const trimmed = text.trim();
  if (!/^postgres(ql)?:\/\//i.test(trimmed)) {
    return {
      ok: false,
      message: 'Paste a URL that starts with postgres:// (for example postgres://reader@db:5432/ny).',
    };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return {
      ok: false,
      message: 'This is not a URL Lexica can read; check it for spaces or a stray character.',
    };
  }
  const sslmode = url.searchParams.get('sslmode') ?? '';
  const ignored = [...url.searchParams.keys()].filter((key) => key !== 'sslmode' && key !== 'sslrootcert');
  return {
    ok: true,
    fields: {
      host: url.hostname,
      port: url.port,
      database: decode(url.pathname.replace(/^\//, '')),
      user: decode(url.username),
      sslmode: (SSL_MODES as readonly string[]).includes(sslmode) ? (sslmode as SslMode) : '',
      sslrootcert: url.searchParams.get('sslrootcert') ?? '',
    },
    password: url.password === '' ? null : decode(url.password),
    ignored,
  };
}

/** Percent-encodes a URL part, keeping `/` readable in a certificate path. */
function encode(part: string): string {
  return encodeURIComponent(part).replace(/%2F/gi, '/');
}

/** The URL the fields stand for, never with a password; null when no host is given (no URL to store). */
export function buildPgUrl(fields: PgFields): string | null {
  const host = fields.host.trim();
  if (host === '') {
    return null;
  }
  const user = fields.user.trim();
  const port = fields.port.trim();
  let url = `postgres://${user === '' ? '' : `${encodeURIComponent(user)}@`}${host}${port === '' ? '' : `:${port}`}/${encodeURIComponent(fields.database.trim())}`;
  const query: string[] = [];
  if (fields.sslmode !== '') {
    query.push(`sslmode=${fields.sslmode}`);
  }
  if (fields.sslrootcert.trim() !== '') {
    query.push(`sslrootcert=${encode(fields.sslrootcert.trim())}`);
  }
  if (query.length > 0) {
    url += `?${query.join('&')}`;
  }
  return url;
}
