import { AlertNotifier } from '../../platform/alerting/alert-notifier.js';
import { SloMonitor } from '../../platform/alerting/slo-monitor.js';

/**
 * The check of the delay objectives and the notices of their breaches, run by the instances that serve the API
 * (one at a time), with the alert settings the environment gave (validated at start).
 */
export const SLO_ALERTING = [SloMonitor, AlertNotifier];
