"""The OpenSubsonic API at ``/rest``: what music apps (Symfonium, DSub, Tempo, Amperfy,
Substreamer, Feishin, Sonixd ...) speak, over Bandstand's own rules.

The modules:

* ``router.py`` — the one route: parameters from the query string and a form body, the
  format (XML, or JSON with ``f=json``), the method by name, authentication, the method's
  write budget, its session, and the ``subsonic-response`` around the answer.
* ``registry.py`` — methods by name (``@method``), what a call is given (``Call``), and
  the OpenSubsonic extensions declared (``extension``).
* ``params.py`` — typed parameter getters (missing is error 10, wrong is error 0).
* ``errors.py`` — Subsonic's error codes as exceptions (``from_app_error`` translates a
  shared service's refusal).
* ``render.py`` — one Python structure written as JSON or XML.
* ``auth.py`` — app passwords as ``u``+``p``, ``u``+``t``+``s`` and ``apiKey``; never the
  account password.
* ``mapping.py`` — the id scheme and how artists, albums and songs are shown.
* ``repository.py`` — every query; songs only through ``song_rows`` (the one visibility
  rule), and ``reading.py`` turns them into cards through the one reader.
* ``system.py``, ``browsing.py`` — the methods so far.

Adding methods (``lists.py``, ``searching.py``, ``annotation.py``, ``playlists.py``,
``media.py`` ...):

1. Make the module, and write each method as one async function of a ``Call``::

       from bandstand.subsonic import mapping, reading
       from bandstand.subsonic import repository as repo
       from bandstand.subsonic.registry import Call, method
       from bandstand.subsonic.render import Payload

       @method("getRandomSongs")
       async def get_random_songs(call: Call) -> Payload:
           size = call.params.integer("size", 10, minimum=0, maximum=500)
           stmt = repo.song_rows(call.me.user_id).order_by(...).limit(size)
           return {"randomSongs": {"song": mapping.children(await reading.songs(call, stmt))}}

   Read songs with ``repository.song_rows`` (add ``where``/``order_by``/``limit``) and
   ``reading.songs`` or ``reading.albums``: nothing else applies the visibility rule and
   the pending counts. Show them with ``mapping`` (``child``, ``album``, ``artist`` ...).
   Refuse with ``errors.*`` (or let a shared service's ``AppError`` through: 404 becomes
   70, 403 50). A method that changes anything says ``@method(..., writes=True)`` (one
   transaction, committed when it returns) and spends the budget of the REST route it
   stands for (``budget=Family.LIKES`` ...). A method answering bytes returns a
   Starlette ``Response``. An OpenSubsonic extension it implements is declared beside it:
   ``extension("songLyrics", 1)``.
2. Register the module: one line in ``methods.py`` (``import bandstand.subsonic.lists``).
3. Test it in ``tests/subsonic/`` with the real client (``tests/subsonic/support.py``),
   validating the XML against ``tests/subsonic/subsonic-rest-api.xsd`` (add the element
   the new method answers if it is not there yet).
"""
