import { describe, expect, it } from 'vitest';
import { href, html } from './html.js';
import { latencyChart, timelineSection, type Viewer } from './pages.js';

const viewer: Viewer = { name: 'ops', canAct: true, isAdmin: false, csrfToken: 'csrf' };

describe('console pages', () => {
  it('escape every value put into them', () => {
    const evil = '<script>alert(1)</script>"\'&';
    expect(html`<p title="${evil}">${evil}</p>`.text).toBe('<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</p>');
    expect(html`${[evil, html`<b>${evil}</b>`]}`.text).not.toContain('<script>');
  });

  it('keep filters in the URL only when they are set', () => {
    expect(href('/console/orders', { status: 'rejected', channelId: '', cursor: undefined })).toBe('/console/orders?status=rejected');
    expect(href('/console/orders', {})).toBe('/console/orders');
  });

  it('link a step\'s trace id to the trace viewer when one is set, and show it as text otherwise', () => {
    const trace = { correlationId: 'c1', traceIds: ['4bf92f3577b34da6a3ce929d0e0e4736'], deliveries: [{ type: 't', destination: 'erp:bc', key: 'k', status: 'delivered', attempts: 1, payload: { a: '<b>' } }], timeline: [{ at: '2026-12-06T00:00:00Z', step: 'delivered', destination: 'erp:bc', latencyMs: 12, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', detail: null }] };
    const linked = timelineSection({ ...viewer, traceUrl: 'https://tempo.example.com/trace/{traceId}' }, trace).text;
    expect(linked).toContain('href="https://tempo.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736"');
    expect(linked).toContain('&quot;a&quot;: &quot;&lt;b&gt;&quot;');
    const plain = timelineSection(viewer, trace).text;
    expect(plain).not.toContain('href="https://');
    expect(plain).toContain('trace 4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('draw the last hour\'s answer times as one line and a point per minute for each destination', () => {
    const minute = (ago: number) => new Date(Date.now() - ago * 60_000).toISOString();
    const chart = latencyChart([
      { minute: minute(10), destination: 'erp:bc', delivered: 5, p50Ms: 10, p95Ms: 40 },
      { minute: minute(5), destination: 'erp:bc', delivered: 7, p50Ms: 12, p95Ms: 80 },
      { minute: minute(5), destination: 'channel:portal', delivered: 2, p50Ms: 3, p95Ms: 4 },
    ]).text;
    expect(chart.match(/<polyline/g)).toHaveLength(2);
    expect(chart.match(/<circle/g)).toHaveLength(3);
    expect(chart).toContain('80 ms');
    expect(chart).toContain('erp:bc: 12 delivered, last p95 80 ms');
  });
});
