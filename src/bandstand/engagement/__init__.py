"""Engagement: plays, song likes, listening history, and where their counts are counted.

A like, a play and a comment are each a row of a truth table (``song_likes``, ``plays``,
``comments``), committed before the answer. The song's counters (``song_stats``: views,
likes, comments) move later: each change marks its counter in the counter store and
records a delta there, and the flush adds the deltas to ``song_stats`` in batches, then
recounts every marked counter from its rows, so a delta lost on the way (a killed
process, an emptied Redis) is repaired without anyone running a command::

  POST /songs/:id/like      POST /songs/:id (a play)     POST /comments/...
  songs/router.py           songs/router.py              comments/router.py
        |                         |                            |
  engagement/service.py     engagement/service.py        comments/service.py
        |                         |  a view counts once         |
  engagement/likes.py             |  per window (the store)     |
    likes that arrive together    |                            |
    write together, and commit    |                            |
    (kit/batching.py)             |                            |
        |                         |                            |
  engagement/repository.py  engagement/repository.py     comments/repository.py
    song_likes                plays, history               comments
        |                         |                            |
        +------ mark the counter, record the delta ------------+
                                  |
                  engagement/counters/          the counter store: pending
                    memory.py | redis.py        deltas per counter and day, marks
                                  |
                  engagement/counters/flush.py  run by engagement/tasks.py every
                                  |             BANDSTAND_COUNTER_FLUSH_S
                    batches  -> song_stats, song_daily
                    marked   -> recounted from their rows (counters/repository.py)
                                  |
  every read of a song: songs/cards.py = its song_stats row + its pending deltas

A like commits in its batch (``likes.py``); a play and a comment commit with their
request's session. A comment's likes take the same road to ``comments.like_count``.
"""
