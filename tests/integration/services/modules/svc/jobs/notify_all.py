"""Sends one notification per entry of config['messages'] and returns what send() said."""


async def handler(context):
    sent = []
    for message in context.config["messages"]:
        sent.append(await context.services.notifications.send(message))
    return {"sent": sent}
