"""Sends a short report by email and by webhook; recipients come from the job's config."""


async def handler(context):
    config = context.config
    notifications = context.services.notifications
    subject = config.get("subject", "Almanac report")
    run = f"execution {context.execution_id} (attempt {context.attempt})"
    body = f"{context.job_name} ran as {run}."
    sent = []
    if config.get("emailTo"):
        message = {"channel": "email", "to": config["emailTo"], "subject": subject, "body": body}
        sent.append(await notifications.send(message))
    if config.get("webhookUrl"):
        sent.append(
            await notifications.send(
                channel="webhook",
                to=config["webhookUrl"],
                subject=subject,
                body=body,
                data={"job": context.job_name, "attempt": context.attempt},
            )
        )
    context.services.logger.info("report sent", channels=[s["channel"] for s in sent])
    return {"sent": sent}
