import type { LoadReport } from './runLoad.js';

/** The report as a few readable lines (the CLI prints them; `--json` prints the report itself). */
export function formatLoadReport(report: LoadReport): string {
  const { appends, throughput, latencyMs: l, ackLatencyMs: a } = report;
  const errors = Object.entries(report.errors).map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
  return [
    `scenario ${report.scenario}: ${report.rate} appends/s for ${report.durationSeconds} s (after ${report.warmupSeconds} s of warm-up left out) over ${report.append}, ${report.subscribers} subscribers, ${report.customers} customers`,
    `appends: ${appends.sent} sent, ${appends.acknowledged} acknowledged (${appends.eventsAcknowledged} events), ${appends.failed} failed`,
    `throughput: ${throughput.eventsPerSecond} events/s acknowledged, ${throughput.pushesPerSecond} pushes/s received (${report.pushes} pushes)`,
    `effect after cause (append sent → push received), ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}  (${l.count} of ${report.expectedDeliveries} deliveries)`,
    `append acknowledged, ms: p50 ${a.p50}  p90 ${a.p90}  p99 ${a.p99}  max ${a.max}`,
    `timeouts: ${report.timeouts}; errors: ${errors}; worst send lag: ${report.maxSendLagMs} ms`,
  ].join('\n');
}
