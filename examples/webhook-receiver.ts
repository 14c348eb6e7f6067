// The README's webhook receiver, runnable as it stands (PORT defaults to 3000):
//   WEBHOOK_SECRET=whsec_… npx node examples/webhook-receiver.ts
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.WEBHOOK_SECRET!); // the secret createWebhook answered
createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    try {
      // Throws unless a signature matches and webhook-timestamp is within 5 minutes.
      const { type, data } = webhook.verify(body, req.headers as Record<string, string>) as { type: string; data: any };
      console.log(req.headers["webhook-id"], type, data.identifier, data.seq ?? data.erased_at);
      res.writeHead(204).end(); // any 2xx: delivered; de-duplicate on webhook-id
    } catch {
      res.writeHead(400).end();
    }
  });
}).listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
