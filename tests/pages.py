"""Steps on the coordinator's results page that many tests take: ask for a count, then
publish the count the page shows. Under the tests' ``TASK_QUEUE = "immediate"`` a count asked
for on the page is done by the time the page answers."""

import re

COUNT_ON_PAGE = re.compile(r'name="(?:publish|correction)-count" value="(\d+)"')


def shown_count(page_text: str) -> int | None:
    """The id of the finished count a results page offers to publish, or None."""
    found = COUNT_ON_PAGE.search(page_text)
    return int(found.group(1)) if found else None


def ask_for_count(client, round_id: int, excluded=()):
    """Press "Count the ballots" (with the proposals to leave out); the page it leads to."""
    return client.post(f"/manage/rounds/{round_id}/results",
                       data={"action": "count", "count-excluded": [str(p) for p in excluded]},
                       follow_redirects=True)


def count_and_publish(client, round_id: int, excluded=(), reason: str | None = None,
                      corrects: int | None = None):
    """Count, then publish that count (a correction with ``reason``); when the count gives
    nothing to publish, the page that says why."""
    page = ask_for_count(client, round_id, excluded)
    count_id = shown_count(page.text)
    if count_id is None:
        return page
    if reason is None:
        data = {"action": "publish", "publish-confirm": "y", "publish-count": str(count_id)}
    else:
        data = {"action": "correct", "correction-confirm": "y", "correction-reason": reason,
                "correction-count": str(count_id)}
        if corrects is not None:
            data["correction-corrects"] = str(corrects)
    return client.post(f"/manage/rounds/{round_id}/results", data=data)
