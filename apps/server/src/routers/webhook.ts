import {
  createWebhook,
  createWebhookInput,
  deleteWebhook,
  listDeliveries,
  listDeliveriesInput,
  listWebhooks,
  listWebhooksInput,
  testWebhook,
  updateWebhook,
  updateWebhookInput,
  webhookIdInput,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

/** A project's webhooks: all for maintainers (their URLs and deliveries are the project's secrets). */
export const webhookRouter = router({
  /** Creates a webhook; the answer holds its signing secret, shown this once. */
  create: authedProcedure
    .meta(rest("POST", "/webhooks", "Create a webhook (its secret is in this answer only)"))
    .input(createWebhookInput)
    .mutation(({ ctx, input }) => createWebhook(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .meta(rest("GET", "/webhooks", "A project's webhooks"))
    .input(listWebhooksInput)
    .query(({ ctx, input }) => listWebhooks(ctx.db, ctx.actor, input)),
  /** Changes it; enabling a webhook the server disabled clears the reason. */
  update: authedProcedure
    .meta(rest("PATCH", "/webhooks/{id}", "Change a webhook"))
    .input(updateWebhookInput)
    .mutation(({ ctx, input }) => updateWebhook(ctx.db, ctx.actor, input)),
  delete: authedProcedure
    .meta(rest("DELETE", "/webhooks/{id}", "Delete a webhook"))
    .input(webhookIdInput)
    .mutation(({ ctx, input }) => deleteWebhook(ctx.db, ctx.actor, input)),
  /** Queues a `ping` delivery now. */
  test: authedProcedure
    .meta(rest("POST", "/webhooks/{id}/test", "Send a ping delivery now"))
    .input(webhookIdInput)
    .mutation(({ ctx, input }) => testWebhook(ctx.db, ctx.actor, input)),
  /** Its deliveries, newest first, with every attempt's status, duration and answer. */
  deliveries: authedProcedure
    .meta(rest("GET", "/webhooks/{webhookId}/deliveries", "A webhook's deliveries and attempts"))
    .input(listDeliveriesInput)
    .query(({ ctx, input }) => listDeliveries(ctx.db, ctx.actor, input)),
});
