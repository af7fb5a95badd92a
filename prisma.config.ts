import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (`prisma generate`, `prisma migrate diff`). The service itself
// connects through the pg driver adapter (prisma/client.ts) and applies migrations with its own
// runner (prisma/migrate.ts), because this machine cannot download Prisma's schema engine.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/campaigns' },
});
