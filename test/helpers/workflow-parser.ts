/**
 * @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which bundlers accept
 * and Node's ESM loader refuses. A load hook adds the attribute for those two files only, so the tests use
 * the published package as it is instead of a copy of its schemas.
 */
import { registerHooks } from 'node:module';

registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/@actions/workflow-parser/') && url.endsWith('.json')) {
      return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
    }
    return nextLoad(url, context);
  },
});

const parser = await import('@actions/workflow-parser');
const actions = await import('@actions/workflow-parser/actions/index');

export const { NoOperationTraceWriter, parseWorkflow } = parser;
export const { parseAction, convertActionTemplate } = actions;
export type { ActionRunsNode } from '@actions/workflow-parser/actions/index';
