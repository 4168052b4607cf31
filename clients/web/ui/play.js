// Joining a private room by code when the game is not known yet: take the seat, read the
// game from the Welcome, keep the resume token where that game's page looks for it, and
// go there. The page resumes the same player (the browser's 1001 on leaving this page
// holds the entity for the server's resume grace).

import { Connection, requestMatch, resumeKey, sessionResumeStore } from "../sdk/index.js";
import { chooseName, pageOf, setPageState } from "./page.js";

async function start() {
  const status = document.getElementById("play-status");
  const params = new URLSearchParams(location.search);
  const code = (params.get("code") || "").toUpperCase();
  const name = await chooseName();
  setPageState("connecting");
  let answer;
  try {
    answer = await requestMatch({ code, name, token: params.get("token") || undefined });
  } catch (error) {
    status.textContent = error.reason ?? error.message;
    setPageState("closed");
    return;
  }
  const connection = new Connection({
    url: answer.url,
    name,
    reconnect: null,
    onWelcome: async (welcome) => {
      const target = new URL(await pageOf(welcome.game), location.href);
      target.searchParams.set("code", code);
      target.searchParams.set("name", name);
      sessionResumeStore(resumeKey(target)).save({ url: answer.url, resume: welcome.resume, entityId: welcome.entityId });
      location.replace(target.toString());
    },
    onChange: (state) => {
      if (state === "closed") {
        status.textContent = `could not join: ${connection.closeReason ?? connection.closeCode}`;
        setPageState("closed");
      }
    },
  });
  connection.start();
}

start();
