// Starts the sample app on $PORT (default 3000).
import { createApp } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
createApp().listen(port, () => console.log(`listening on http://localhost:${port}`));
