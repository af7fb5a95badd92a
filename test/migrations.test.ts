/**
 * Guards the hand-kept SQL migrations against prisma/schema.prisma: applies every migration to a
 * fresh PostgreSQL database, introspects it, and compares every table, column (type, nullability,
 * default), primary key, unique constraint, index and foreign key with what the Prisma schema
 * declares. Also checks our runner records migrations the way `prisma migrate deploy` does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';
import { Client } from 'pg';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../prisma/migrate';
import { testDatabaseUrl } from './harness/stack';

type DMMF = Awaited<ReturnType<typeof getDMMF>>;
type Model = DMMF['datamodel']['models'][number];
type Field = Model['fields'][number];

interface Shape {
  columns: Record<string, { type: string; nullable: boolean; hasDefault: boolean }>;
  primaryKey: string[];
  indexes: Record<string, { unique: boolean; columns: string[] }>;
  foreignKeys: Record<string, { columns: string[]; references: string; onDelete: string }>;
}

const NATIVE: Record<string, (args: string[]) => string> = {
  Uuid: () => 'uuid',
  Text: () => 'text',
  VarChar: ([n]) => (n ? `character varying(${n})` : 'character varying'),
  Char: ([n]) => `character(${n ?? 1})`,
  Integer: () => 'integer',
  SmallInt: () => 'smallint',
  BigInt: () => 'bigint',
  Boolean: () => 'boolean',
  Date: () => 'date',
  Timestamptz: ([p]) => `timestamp(${p ?? 3}) with time zone`,
  Timestamp: ([p]) => `timestamp(${p ?? 3}) without time zone`,
  JsonB: () => 'jsonb',
  Json: () => 'json',
  DoublePrecision: () => 'double precision',
  Real: () => 'real',
  Decimal: ([p, s]) => `numeric(${p ?? 65},${s ?? 30})`,
};

const SCALAR: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Bytes: 'bytea',
};

/** Defaults Prisma fills in on the client side, which leave no DEFAULT in the database. */
const CLIENT_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

function columnName(field: Field): string {
  return field.dbName ?? field.name;
}

function pgType(field: Field): string {
  let type: string;
  if (field.nativeType) {
    const [name, args] = field.nativeType as [string, string[]];
    const render = NATIVE[name];
    if (!render) throw new Error(`drift test: teach it native type @db.${name}`);
    type = render(args);
  } else if (field.kind === 'scalar') {
    type = SCALAR[field.type];
    if (!type) throw new Error(`drift test: teach it scalar type ${field.type}`);
  } else {
    throw new Error(`drift test: teach it ${field.kind} fields (${field.name})`);
  }
  return field.isList ? `${type}[]` : type;
}

function hasDbDefault(field: Field): boolean {
  if (!field.hasDefaultValue) return false;
  const d = field.default as { name?: string } | undefined;
  return !(d && typeof d === 'object' && 'name' in d && CLIENT_DEFAULTS.has(d.name!));
}

function expectedShapes(dmmf: DMMF): Record<string, Shape> {
  const { models, indexes } = dmmf.datamodel;
  const tableOf = (model: string) => {
    const m = models.find((x) => x.name === model)!;
    return m.dbName ?? m.name;
  };
  const shapes: Record<string, Shape> = {};
  for (const model of models) {
    const table = tableOf(model.name);
    const scalar = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
    const col = (name: string) => columnName(model.fields.find((f) => f.name === name)!);
    const shape: Shape = { columns: {}, primaryKey: [], indexes: {}, foreignKeys: {} };
    for (const field of scalar) {
      shape.columns[columnName(field)] = {
        type: pgType(field),
        // Prisma creates list columns without NOT NULL (a list is never "optional" in the schema).
        nullable: field.isList || !field.isRequired,
        hasDefault: hasDbDefault(field),
      };
    }
    for (const index of indexes.filter((i) => i.model === model.name)) {
      const columns = index.fields.map((f) => col(f.name));
      if (index.type === 'id') {
        shape.primaryKey = columns;
        continue;
      }
      const unique = index.type === 'unique';
      const name = index.dbName ?? `${table}_${columns.join('_')}_${unique ? 'key' : 'idx'}`;
      shape.indexes[name] = { unique, columns };
    }
    for (const field of model.fields.filter((f) => f.relationFromFields?.length)) {
      const columns = field.relationFromFields!.map(col);
      const target = models.find((m) => m.name === field.type)!;
      const targetCols = field.relationToFields!.map((n) =>
        columnName(target.fields.find((f) => f.name === n)!),
      );
      shape.foreignKeys[`${table}_${columns.join('_')}_fkey`] = {
        columns,
        references: `${tableOf(field.type)}(${targetCols.join(',')})`,
        onDelete: (field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')).toUpperCase(),
      };
    }
    shapes[table] = shape;
  }
  return shapes;
}

async function actualShapes(client: Client): Promise<Record<string, Shape>> {
  const shapes: Record<string, Shape> = {};
  const shape = (table: string) =>
    (shapes[table] ??= { columns: {}, primaryKey: [], indexes: {}, foreignKeys: {} });
  const columns = await client.query(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           NOT a.attnotnull AS nullable, a.atthasdef AS has_default
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> '_prisma_migrations'
    ORDER BY c.relname, a.attnum`);
  for (const r of columns.rows) {
    shape(r.table).columns[r.column] = { type: r.type, nullable: r.nullable, hasDefault: r.has_default };
  }
  const indexes = await client.query(`
    SELECT t.relname AS table, i.relname AS index, ix.indisunique AS unique, ix.indisprimary AS primary,
           array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
    GROUP BY t.relname, i.relname, ix.indisunique, ix.indisprimary`);
  for (const r of indexes.rows) {
    if (r.primary) shape(r.table).primaryKey = r.columns;
    else shape(r.table).indexes[r.index] = { unique: r.unique, columns: r.columns };
  }
  const fks = await client.query(`
    SELECT t.relname AS table, con.conname AS name, f.relname AS target,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(n, ord)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS columns,
           (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(n, ord)
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS target_columns,
           con.confdeltype AS on_delete
    FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class f ON f.oid = con.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE con.contype = 'f' AND n.nspname = 'public'`);
  const ON_DELETE: Record<string, string> = {
    a: 'NOACTION',
    r: 'RESTRICT',
    c: 'CASCADE',
    n: 'SETNULL',
    d: 'SETDEFAULT',
  };
  for (const r of fks.rows) {
    shape(r.table).foreignKeys[r.name] = {
      columns: r.columns,
      references: `${r.target}(${r.target_columns.join(',')})`,
      onDelete: ON_DELETE[r.on_delete],
    };
  }
  return shapes;
}

describe('prisma migrations', () => {
  let admin: Client;
  let url: string;
  let client: Client;
  const database = `drift_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const u = new URL(testDatabaseUrl());
    u.pathname = `/${database}`;
    url = u.toString();
  });

  afterAll(async () => {
    await client?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('applies every migration once and records it as prisma migrate deploy would', async () => {
    const migrations = readMigrations();
    expect(await migrate(url)).toEqual(migrations.map((m) => m.name));
    expect(await migrate(url)).toEqual([]);
    client = new Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at
       FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows).toEqual(
      migrations.map((m) => ({
        migration_name: m.name,
        checksum: createHash('sha256')
          .update(readFileSync(path.join(MIGRATIONS_DIR, m.name, 'migration.sql')))
          .digest('hex'),
        finished_at: expect.any(Date),
        applied_steps_count: 1,
        rolled_back_at: null,
      })),
    );
  });

  it('leaves a database whose every table, column, key and index matches schema.prisma', async () => {
    const dmmf = await getDMMF({
      datamodel: readFileSync(path.join(__dirname, '..', 'prisma', 'schema.prisma'), 'utf8'),
    });
    expect(await actualShapes(client)).toEqual(expectedShapes(dmmf));
  });

  it('refuses a migration edited after it was applied, and one that fails applies nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const first = readMigrations(dir)[0];
      writeFileSync(path.join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
      await expect(migrate(url, dir)).rejects.toThrow(/was edited after it was applied/);

      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const broken = path.join(dir, '99999999999999_broken');
      cpSync(path.join(dir, first.name), broken, { recursive: true });
      writeFileSync(
        path.join(broken, 'migration.sql'),
        'CREATE TABLE "half_applied" (id int);\nSELECT no_such_function();\n',
      );
      await expect(migrate(url, dir)).rejects.toThrow(/99999999999999_broken failed and was rolled back/);
      const leftovers = await client.query(`SELECT to_regclass('public.half_applied') AS t`);
      expect(leftovers.rows[0].t).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
