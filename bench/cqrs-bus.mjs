// What a module-to-module call through @nestjs/cqrs costs against a direct method call: the modules now ask
// each other through QueryBus and CommandBus (docs/MODULES.md), about six times per order and twice per stock
// batch. One process, a trivial handler, CPU per call.
import 'reflect-metadata';
import os from 'node:os';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';

const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);

class FigureQuery extends Query {
  constructor(sku) {
    super();
    this.sku = sku;
  }
}

class Figures {
  find(sku) {
    return Promise.resolve({ sku, available: sku.length });
  }
}
Injectable()(Figures);

class FigureHandler {
  constructor(figures) {
    this.figures = figures;
  }
  execute(query) {
    return this.figures.find(query.sku);
  }
}
Reflect.defineMetadata('design:paramtypes', [Figures], FigureHandler);
Injectable()(FigureHandler);
QueryHandler(FigureQuery)(FigureHandler);

class BenchModule {}
Module({ imports: [CqrsModule.forRoot()], providers: [Figures, FigureHandler] })(BenchModule);

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
await app.init();
const bus = app.get(QueryBus);
const figures = app.get(Figures);

async function measure(call) {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await call(`SKU-${i & 1023}`);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / CALLS;
}

console.log(`Date: ${new Date().toISOString().slice(0, 10)}; ${os.cpus().length} x ${os.cpus()[0].model}; Node ${process.version}; ${CALLS} calls per round, three rounds each, alternating.`);
const rounds = { direct: [], bus: [] };
for (let round = 0; round < 3; round++) {
  rounds.direct.push(await measure((sku) => figures.find(sku)));
  rounds.bus.push(await measure((sku) => bus.execute(new FigureQuery(sku))));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[1];
console.log('| call | CPU per call, µs (median of 3) |');
console.log('|---|---|');
console.log(`| direct method call | ${median(rounds.direct).toFixed(2)} |`);
console.log(`| QueryBus.execute | ${median(rounds.bus).toFixed(2)} |`);
await app.close();
