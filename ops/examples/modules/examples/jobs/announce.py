"""Emits an event; the 'React to announcements' job is triggered by it."""


async def handler(context):
    event_id = await context.services.events.emit(
        "examples.announced", {"message": f"hello from execution {context.execution_id}"}
    )
    context.services.logger.info("announced", {"eventId": event_id})
    return {"eventId": event_id}
