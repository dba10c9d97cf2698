// The dashboard's entry: the hash router (#/ the features list, #/f/<id> a feature), the header's live indicator and
// "acting as" field. Each page is mounted into <main> and unmounted (streams closed, timers cleared) when left.
import { mountFeature } from "./feature.js";
import { setLive } from "./lib.js";
import { mountList } from "./list.js";

const page = document.getElementById("page");
let unmount = () => {};

function route() {
  unmount();
  page.replaceChildren();
  setLive("connecting");
  const match = /^#\/f\/([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
  unmount = match ? mountFeature(page, match[1]) : mountList(page);
  window.scrollTo(0, 0);
}

const actorInput = document.getElementById("actor");
actorInput.value = localStorage.getItem("baton.by") ?? "";
actorInput.addEventListener("change", () => localStorage.setItem("baton.by", actorInput.value.trim()));

window.addEventListener("hashchange", route);
route();
