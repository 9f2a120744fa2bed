export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__portcullisBackends ?? []).map((backend) => backend.destroy()));
}
