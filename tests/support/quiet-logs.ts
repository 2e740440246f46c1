/** Import first in a test file: Powertools' logger reads its level when shared/observability.ts loads. */
process.env.POWERTOOLS_LOG_LEVEL = process.env.FACEWATCH_TEST_LOG_LEVEL ?? 'SILENT';
