import { Kafka, logLevel } from 'kafkajs';
const brokers = [process.argv[2] ?? '127.0.0.1:29092'];
const kafka = new Kafka({ brokers, clientId: 't', logLevel: logLevel.NOTHING });
const admin = kafka.admin(); await admin.connect();
const topic = 't' + Date.now();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
const tid = 'tx-' + Date.now();
const p = kafka.producer({ transactionalId: tid, idempotent: true, maxInFlightRequests: 1 });
await p.connect();
let tx = await p.transaction(); await tx.send({ topic, messages: [{ key: 'a', value: 'first' }] }); await tx.commit();
const p2 = kafka.producer({ transactionalId: tid, idempotent: true, maxInFlightRequests: 1 });
await p2.connect();
let tx2 = await p2.transaction(); await tx2.abort();
console.log('p2 initialised (fenced p)');
try { tx = await p.transaction(); await tx.send({ topic, messages: [{ key: 'a', value: 'zombie' }] }); console.log('zombie send ok'); await tx.commit(); console.log('ZOMBIE COMMIT OK'); } catch (e) { console.log('fenced:', e.name, e.type, e.message); }
try { tx = await p2.transaction(); await tx.send({ topic, messages: [{ key: 'a', value: 'second' }] }); await tx.commit(); console.log('p2 commit ok'); } catch (e) { console.log('p2 fail:', e.name, e.type, e.message); }
const c = kafka.consumer({ groupId: 'g' + Date.now(), readUncommitted: false });
await c.connect(); await c.subscribe({ topic, fromBeginning: true });
const seen = [];
await c.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); } });
const t0 = Date.now(); while (Date.now() - t0 < 4000) await new Promise(r => setTimeout(r, 100));
console.log('read_committed saw', seen);
const offs = await admin.fetchTopicOffsets(topic); console.log(offs);
await c.disconnect(); process.exit(0);
