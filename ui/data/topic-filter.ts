/**
 * Live validation of topics and filters in forms. The rules are the server's (core/topic-filter.ts,
 * MQTT 3.1.1 §4.7): one implementation, imported, so the UI and the API never disagree. core/ is
 * pure (no DOM, no Node built-ins), so the bundle can include it.
 */
export { topicFilterProblem, topicNameProblem } from '../../core/topic-filter.ts';
