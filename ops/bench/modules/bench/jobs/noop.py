async def handler(context):
    return None
