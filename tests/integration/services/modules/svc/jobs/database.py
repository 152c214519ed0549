"""Uses the module's own schema, then tries what a module must not do."""


async def handler(context):
    db = context.services.database
    await db.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL)")
    await db.execute("INSERT INTO notes (text) VALUES ($1)", [context.config["note"]])
    notes = [row["text"] for row in await db.query("SELECT text FROM notes ORDER BY id")]
    where = await db.query_one("SELECT current_schema() AS schema, current_user AS role")
    denied = {}
    for name, sql in context.config["forbidden"].items():
        try:
            await db.execute(sql)
            denied[name] = None
        except Exception as error:
            denied[name] = f"{type(error).__name__}: {error}"
    return {"notes": notes, **where, "denied": denied}
