// A real Backstage backend with the catalog and TechDocs plugins, for the assistant's ingest tests.
// Configuration comes from the --config file the tests write (in-memory SQLite, file locations,
// a static external-access token, TechDocs built locally).
const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-techdocs-backend'));
backend.start();
