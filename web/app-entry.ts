/**
 * The report page's bootstrap (web/build.mjs bundles it into dist/web/app.js): starts the page
 * (web/main.ts) with every stack's message decoder. The one place the page learns of the stacks:
 * web/ itself imports none.
 */
import { VIEWER_DECODERS } from '../scenarios/stacks.js';
import { startReportPage } from './main.js';

startReportPage({ decoders: VIEWER_DECODERS });
