export { createMonitoring } from './monitoring.js';
export type { FeedEntry, Monitoring, MonitoringDependencies, OutboxSummary } from './monitoring.js';
export type { SubscriptionRequest, SubscriptionService, SubscriptionView } from './subscriptions.js';
export type { AlertClaims, ConsentEndedClaims, EventClaims } from './events.js';
export { backoffMs } from './delivery.js';
export type { DeliveryWorker } from './delivery.js';
