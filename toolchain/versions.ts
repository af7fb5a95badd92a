/** Pinned versions of the local toolchain. Keep in step with go.mod and pom.xml beside this file. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEST_SERVER_VERSION = '1.38.0';
/** schemathesis (PyPI), the API fuzzer `npm run fuzz` installs into a cached virtualenv. */
export const SCHEMATHESIS_VERSION = '4.32.5';
/** The real Temporal server (the release the CLI embeds) and its Web UI server, for `npm run start:cluster`. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_UI_SERVER_VERSION = '2.42.1';
