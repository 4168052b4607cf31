// A game page in TypeScript against the SDK's declarations (sdk/index.d.ts). Checked with
// `tsc -p tests/js/types` where TypeScript is installed (tests/js/types.test.mjs).

import {
  connectPage,
  Connection,
  type DecodedEntity,
  type DecodedEvent,
  GameSchema,
  replayPrediction,
  Role,
  Session,
} from "@gameserver/web-sdk";
import { encode } from "@gameserver/web-sdk/cbor";

interface Token extends DecodedEntity {
  readonly x: number;
}

const step = (state: Token, input: { dx: number }, { dtS }: { dtS: number }): Token => ({
  ...state,
  x: state.x + input.dx * 100 * dtS,
});

async function main(): Promise<void> {
  const { connection, code } = await connectPage({
    location,
    name: "ann",
    inputSource: () => ({ dx: 1 }),
    prediction: replayPrediction(step),
    onEvent: (event: DecodedEvent) => console.log(event.type, event.tick),
    onChange: (state) => (document.body.dataset.state = state),
  });
  const session: Session = connection.session;
  const tokens = session.entities().filter((e) => e.type === "Token");
  const first = tokens[0];
  if (first !== undefined) console.log(first.id, first.x);
  connection.command("Paint", { colour: "RED" });
  connection.say("hello");
  console.log(code ?? "public room", session.interpolated(performance.now() / 1000).get(1)?.x);
  const schema: GameSchema | null = session.schema;
  if (schema?.input) console.log(schema.input.fields.map((f) => `${f.name}: ${f.type}`));
  const watcher = new Connection({ url: "ws://localhost:8000/ws", role: Role.SPECTATOR });
  watcher.start();
  console.log(encode([1, 2]).length);
}

void main();
