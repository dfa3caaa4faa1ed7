import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per running service, so that several can share a process (tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly deliveryLatency: Histogram<'flow' | 'destination'>;
  readonly deliveryAttempts: Counter<'flow' | 'destination' | 'outcome'>;
  readonly deadLetters: Counter<'flow' | 'destination' | 'class'>;
  readonly replays: Counter<'flow' | 'destination'>;
  readonly governorDeferrals: Counter<'target' | 'reason'>;
  readonly circuitState: Gauge<'target'>;
  readonly circuitTransitions: Counter<'target' | 'to'>;
  readonly relayLag: Histogram;
  readonly sloNotifications: Counter<'channel' | 'kind' | 'outcome'>;
  readonly reconcileFindings: Counter<'domain' | 'target' | 'class'>;
  readonly reconcileRepairs: Counter<'domain' | 'target' | 'class'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'crossdock_' });
    this.httpDuration = new Histogram({
      name: 'crossdock_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    const registers = [this.registry];
    this.deliveryLatency = new Histogram({
      name: 'crossdock_delivery_latency_seconds',
      help: 'From outbox commit to delivered, by flow (message type) and destination',
      labelNames: ['flow', 'destination'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200],
      registers,
    });
    this.deliveryAttempts = new Counter({ name: 'crossdock_delivery_attempts_total', help: 'Calls to targets by outcome (delivered, retryable, throttled, permanent)', labelNames: ['flow', 'destination', 'outcome'], registers });
    this.deadLetters = new Counter({ name: 'crossdock_dead_letters_total', help: 'Deliveries dead-lettered, by failure class', labelNames: ['flow', 'destination', 'class'], registers });
    this.replays = new Counter({ name: 'crossdock_replays_total', help: 'Dead letters replayed', labelNames: ['flow', 'destination'], registers });
    this.reconcileFindings = new Counter({ name: 'crossdock_reconcile_findings_total', help: 'Drift found by reconciliation runs, by domain, target and class', labelNames: ['domain', 'target', 'class'], registers });
    this.reconcileRepairs = new Counter({ name: 'crossdock_reconcile_repairs_total', help: 'Drift repaired by reconciliation runs, by domain, target and class', labelNames: ['domain', 'target', 'class'], registers });
    this.governorDeferrals = new Counter({ name: 'crossdock_governor_deferrals_total', help: 'Calls deferred by the governor, by reason', labelNames: ['target', 'reason'], registers });
    this.circuitState = new Gauge({ name: 'crossdock_circuit_state', help: 'Circuit breaker per target: 0 closed, 1 half-open, 2 open', labelNames: ['target'], registers });
    this.circuitTransitions = new Counter({ name: 'crossdock_circuit_transitions_total', help: 'Circuit breaker transitions per target', labelNames: ['target', 'to'], registers });
    this.sloNotifications = new Counter({ name: 'crossdock_slo_notifications_total', help: 'Notices of delay objective breaches (kind breached or resolved) by channel (webhook, email) and outcome (sent, failed)', labelNames: ['channel', 'kind', 'outcome'], registers });
    this.relayLag = new Histogram({
      name: 'crossdock_relay_lag_seconds',
      help: 'From outbox commit to job queued',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
  }
}
