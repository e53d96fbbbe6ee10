/**
 * The floor the bot is compared with: a bare Bolt app on the same HTTPReceiver that only acks `/rollout`, and a bare
 * Probot app (createNodeMiddleware) whose push handler only returns, on one node:http server as the bot has.
 * bench/lib/floor.ts compiles this file to plain JavaScript so it runs as `node bare-app.mjs`, exactly as the bot
 * runs as `node dist/main.js` (no loader in either process).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { Probot, createNodeMiddleware } from 'probot';
import { pino } from 'pino';

const env = process.env;

async function main(): Promise<void> {
  const receiver = new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET!, logLevel: LogLevel.INFO, unhandledRequestTimeoutMillis: 3001 });
  const bolt = new App({ token: env.SLACK_BOT_TOKEN!, receiver, logLevel: LogLevel.INFO, clientOptions: { slackApiUrl: env.SLACK_API_URL! } });
  bolt.command('/rollout', async ({ ack }) => {
    await ack();
  });

  const log = pino({ name: 'bare', level: 'info' });
  const probot = new Probot({ appId: env.APP_ID!, privateKey: env.PRIVATE_KEY!, secret: env.WEBHOOK_SECRET!, log: log.child({ component: 'github' }) as never });
  const github = await createNodeMiddleware(
    (app) => {
      app.on('push', async () => undefined);
    },
    { probot, webhooksPath: '/api/github/webhooks' },
  );

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/slack/')) {
      void receiver.requestListener(req, res);
      return;
    }
    void github(req, res, () => {
      res.writeHead(404);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    log.info({ port: (server.address() as AddressInfo).port }, 'bare app listening');
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
