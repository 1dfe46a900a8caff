import type { ReceiverReport, ReceiversRequest } from './webhookReceivers.js';
import { WebhookReceiver } from './webhookReceiver.js';

/* The child process of RemoteReceivers: its receivers, driven over IPC. */
let receivers: WebhookReceiver[] = [];

async function answer(request: ReceiversRequest): Promise<unknown> {
  switch (request.op) {
    case 'listen':
      receivers = Array.from({ length: request.count }, () => new WebhookReceiver(request.secret));
      return Promise.all(receivers.map((receiver) => receiver.listen()));
    case 'set': {
      const receiver = receivers[request.index]!;
      if (request.status !== undefined) receiver.status = request.status;
      if (request.delayMs !== undefined) receiver.delayMs = request.delayMs;
      return null;
    }
    case 'report':
      return receivers.map(({ received, badSignatures, calls }): ReceiverReport => ({ received, badSignatures, calls }));
  }
}

process.on('message', (message: { id: number; request: ReceiversRequest }) => {
  void answer(message.request).then((result) => process.send!({ id: message.id, answer: result }));
});
