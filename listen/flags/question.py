"""Question cues: what makes a post something that waits for an answer.

Each cue gives a feature for the trained model and a short reason for the
user. Cues look at clause starts, so a question buried mid-text counts.
"""

from __future__ import annotations

from collections.abc import Iterator

from .lazy import LazyPattern

from .text import EXCERPT, MAX_NGRAM_TOKENS, Doc, snippet

# Clause starts are found on tokens, not with a regex: a question may follow
# a greeting or filler ("hi all, how do I...") or another sentence.
_BOUNDARY = frozenset(". , ; : ? ! .. ... -".split())
_FILLER = frozenset(
    "hi hey hello so ok okay btw also and but lol guys all folks question q quick "
    "um uh hmm well yo oh ah sorry pls please "
    # Interjections open a chat line before its question ("omg which one", "aw
    # why's that"); elongations arrive squeezed to two letters ("ohhhh" -> "ohh").
    "hiya heya howdy aw aww omg wow ohh ooh haha hehe lmao lmfao rofl ugh damn dang".split()
)
_WH_WORDS = frozenset(
    "how what why when where who whom whose which whats what's hows how's wheres "
    "where's whos who's wat wut wht whats whatcha wtf whys why's whens when's".split()
)
_AUX_WORDS = frozenset(
    "can could would will wud is are r do does did have has should may might am was "
    "were shall must wanna ya can't couldn't won't wouldn't isn't aren't don't doesn't "
    "didn't haven't hasn't shouldn't wasn't weren't cant dont doesnt didnt isnt arent wont".split()
)
_SUBJ_WORDS = frozenset(
    "you u ya ye y'all yall i we they he she it someone anyone somebody anybody any1 "
    "there this that these those ur your my the people everyone ppl ne1 sum1 any".split()
)
_EXCLAIM_AFTER = {
    "what": frozenset("a an".split()),
    "how": frozenset(
        "cool nice sweet awesome lovely great sad funny cute true weird rude dare lucky horrible awful terrible "
        "amazing beautiful wonderful stupid dumb silly strange odd kind boring exciting ironic annoying "
        "embarrassing fun sexy gross cruel typical brilliant fantastic".split()
    ),
    "who": frozenset(["knew"]),
    # "why yes I do", "why thank you": surprise, not a reason asked for.
    "why": frozenset("yes thank thanks hello".split()),
}
# Subjects that come before the verb in a statement or a subordinate
# clause ("when i didnt reply", "where it will end"): after a wh-word they
# mean the word opens a clause, not a question ("what time does" has no
# pronoun).
_PRONOUNS = frozenset("i you u we they he she it ya ye y'all yall".split())
# After a nick, a third-person verb has the nick as its subject ("pat42 is
# my cousin"), not the word after it ("is user77 back yet").
_THIRD_SINGULAR_AUX = frozenset("is was has does isn't wasn't hasn't doesn't isnt wasnt hasnt doesnt".split())
# "what can I say to her": the idiom goes on into a real question.
_SAY_GOES_ON = frozenset("to about that if when so for in on at".split())
# "where ever you go", "what ever you want": a free relative, not a question.
_EVER = "ever"
# "how" with one word and no '?' is an exclamation ("how mean", "how novel")
# unless that word asks for an amount, a way or a reason.
_HOW_ASKS = frozenset("come so about many much long old far often big tall soon".split())


def _bare_how(toks: list[str], i: int) -> bool:
    """'how' + one word closing the clause without '?' (nicks may follow)."""
    if toks[i] != "how" or i + 1 >= len(toks):
        return False
    nxt = toks[i + 1]
    if not nxt.isalpha() or nxt in _HOW_ASKS or nxt in _AUX_WORDS or nxt in _SUBJ_WORDS:
        return False
    for w in toks[i + 2 : i + 40]:
        if w[:1] == "?":
            return False
        if w in _BOUNDARY or w[:1] in ".!" or _is_nick(w) or not any(c.isalpha() for c in w):
            continue  # a nick, a number, an emoticon
        return False
    return True


def _idiom(toks: list[str], i: int) -> bool:
    """'what can I say' closing a clause without '?': a shrug, not a question."""
    if toks[i : i + 4] != ["what", "can", "i", "say"]:
        return False
    nxt = toks[i + 4] if i + 4 < len(toks) else ""
    return nxt[:1] != "?" and nxt not in _SAY_GOES_ON


def _clause_starts(toks: list[str]) -> Iterator[int]:
    """Indexes where a clause starts, skipping leading filler words."""
    at_start = True
    for i, w in enumerate(toks):
        if w in _BOUNDARY or w[:1] == ".":  # any run of dots: "just curious....will I"
            at_start = True
            continue
        if at_start:
            yield i
            if w in _FILLER or w.startswith("@") or not w.isalpha() and any(c.isdigit() for c in w):
                # The next word may still open the clause. Words with
                # digits are chat nicks said without '@' ("user104 what did
                # you want") or numbers, never a question word.
                continue
            at_start = False


# Patterns are lower case and run on the lower-cased text: re.IGNORECASE
# makes long alternations several times slower.
_ASK = LazyPattern(
    # "more than anyone else", "what anybody thinks": a comparison, not an ask.
    r"\b(?<!than )(?<!what )(?<!like )(any\s?(?:one|body|1)\s+(?:know|knows|here|have|has|got|else|tried|seen|wanna|want|can|from|around|online)|"
    # "any ladies here", "any Texas people online": a roll call, put to the room.
    r"any\s+\w+(?:\s+people)?\s+(?:here|around|online|in\s+here)\b|"
    r"(?:does|do|did|has|can|could|would)\s+any\s?(?:one|body)|"
    r"(?:can|could|would|will)\s+(?:some\s?(?:one|body)|you|u)\s+(?:please\s+|pls\s+|plz\s+)?\w+|"
    r"any\s+(?:solution|solutions|idea|ideas|tips?|advice|help|update|updates|news|word|fix|eta|suggestions?|recommendations?|thoughts)|"
    r"i\s+(?:need|want|would like|'d like|wanna)\s+(?:some\s+)?(?:help|to know|advice|an? answer|info)|"
    r"(?:i'?m|i\s+am|just)\s+wondering|i\s+wonder\s+(?:if|whether|how|what|why|when|where)|"
    r"is\s+(?:it|there)\s+(?:possible|a\s+way|any\s+way)|"
    r"(?:let\s+me\s+know|lmk|tell\s+me|advise|explain)\s+(?:how|what|why|when|where|if|whether)|"
    r"how\s+(?:do|can|should|would)\s+i|where\s+(?:do|can)\s+i|"
    r"idk\s+how|not\s+sure\s+how|no\s+idea\s+how)\b",
)
_REQUEST = LazyPattern(
    r"(?:\b(?:please|pls|plz|pleeease|kindly)\s+(?:help|advise|assist|fix|reply|respond|call|dm|send|check|look|explain|tell|contact|get\s+back|let\s+me)\b|"
    # "if he wants to call me", "as soon as you send me yours", "they never
    # send me": said of someone, not asked of us. The lookahead first, so
    # the lookbehinds run only where such a verb starts.
    r"\b(?=(?:help|assist|advise|call|dm|message|email|contact|text|send)\s+me\b)"
    r"(?<!to )(?<!you )(?<!u )(?<!didnt )(?<!didn't )(?<!dint )(?<!never )"
    r"(?:(?:help|assist|advise|dm|message|email|contact|text|send)\s+me\b|"
    # "some call me Jo", "call me whatever you like": a name given, not a call asked for.
    r"(?<!some )(?<!they )(?<!people )(?<!friends )(?<!everyone )(?<!folks )"
    r"call\s+me\b(?!\s+(?:what|whatever|anything|[\w-]*[a-z][\w-]*\d)))|"
    r"\bhelp\s*!|^\s*help\b|\bsos\b|\b(?<!you )(?<!u )need\s+(?:help|assistance|support|an?\s+answer)\b|"
    r"\b(?:can|could)\s+i\s+get\b|\bany\s+help\b|\bhelp\s+(?:please|pls|plz)\b)",
)
_RHETORICAL = LazyPattern(
    r"\b(?:who\s+(?:does|would|even|cares|says|knew|the\s+hell|tf)|why\s+(?:would\s+any|on\s+earth|the\s+hell|tf)|"
    r"are\s+you\s+(?:kidding|serious|joking)|you\s+kidding|what\s+(?:the\s+(?:hell|heck|fuck)|did\s+i\s+expect)|"
    r"how\s+hard\s+(?:is|can)|what'?s\s+not\s+to\s+love|who\s+knew|guess\s+what|"
    # Exclamations in question form: "how cool is that?!"
    r"how\s+(?:cool|nice|sweet|awesome|great|amazing|sad|funny|cute|weird|crazy|lucky|rude|stupid|dumb|true|"
    r"good|bad|beautiful|lovely|exciting|embarrassing|annoying)\s+(?:is|was|are|were)\s+(?:that|this|it|they))"
    r"(?:\s+\w+){0,3}\s*\?+!?",
)
# A question quoted from someone else: "I was like um what soup is this", "she
# goes, 'why is the sky wet?'". It tells a story; it asks us nothing.
_REPORTED = LazyPattern(
    r"\b(?:(?:i|he|she|they|we)\s+(?:was|were|is|am|are)\s+like|(?:says|said|say|asked|asks|goes|went)\s*[,:]?\s*['\"“]+)"
    r"[\s,.:'\"“]*(?:(?:wth|wtf|omg|lol|um+|uh+|oh|dude)\b[\s,.:!]*)?"
    r"(?:how|what|whats|why|when|where|who|which|r|are|is|do|does|did|can|could|would|will)\b"
)
_REPORTED_VERBS = frozenset("says said say asked asks goes went".split())
_WAS_LIKE = frozenset("was were is am are".split())
# Each _ASK branch needs one of these words; the common ones its branches
# start with ("i", "is", "do") would let the search run on most posts.
_ASK_TRIGGERS = frozenset(
    "any anyone anybody any1 someone somebody some you u need want like wanna i'd "
    "wondering wonder possible way know lmk tell advise explain how where".split()
)
_REQUEST_TRIGGERS = frozenset(
    "please pls plz pleeease kindly help assist advise call dm message email contact text "
    "sos need can could send any".split()
)
_INTERROBANG = LazyPattern(r"(?:\?+!+|!+\?+)[?!]*")
# A question inside quotes is a title or a citation, not ours to answer.
_QUOTED_Q = LazyPattern(r"[\"“«][^\"”»\n]{1,120}\?[\"”»]")
_SECOND_PERSON = LazyPattern(r"\b(?:you|u|your|ur|yours|y'all|yall|ya|you guys|anyone|anybody|someone|somebody|any1)\b")
_THIRD_PARTY = LazyPattern(r"\b(?:does|did|is|was|will|has|can)\s+(?:he|she|they|him|her|them)\b")
_IMPERATIVE_TO_US = LazyPattern(r"\b(?:dm|help|call|email|message|contact|tell|send)\s+me\b|\bplease\b")


def _is_nick(w: str) -> bool:
    """A mention ('@user') or a chat nick said without '@' ("user104"): a
    name, so it can be the subject of "is user104 back yet"."""
    return w[:1] == "@" or (not w.isalpha() and w.isalnum() and not w.isdigit())


def _nick_at(toks: list[str], j: int) -> bool:
    """Does a nick start at toks[j]? Numbers joined to it by dashes come
    first as tokens of their own ("10-19-20sUser68" -> 10, 19, 20suser68)."""
    for w in toks[j : j + 4]:
        if not w.isdigit():
            return _is_nick(w)
    return False


def _ends_with_question_mark(toks: list[str], i: int) -> bool:
    """Does the clause starting at toks[i] end with '?' (not '.', '!' or the text's end)?"""
    for w in toks[i + 1 : i + 40]:
        if w[:1] == "?":
            return True
        if w[:1] in ".!;":  # a sentence ends; commas and dashes do not end a question
            return False
    return False


def _words(s: str, n: int = 4) -> str:
    return snippet(" ".join(s.split()[:n]), 26)


def cues(doc: Doc) -> tuple[list[str], list[str]]:
    """Returns (model features, reasons)."""
    t = doc.text
    feats: list[str] = []
    reasons: list[str] = []
    quoted = _QUOTED_Q.findall(t)
    unquoted = _QUOTED_Q.sub(" ", t) if quoted else t
    nq = unquoted.count("?")
    if quoted:
        feats.append("q:quoted")
        reasons.append(f"not asking: quoted '{snippet(quoted[0].strip(chr(34)+'“”«»'), 24)}'")
    if nq:
        feats.append("q:has?")
        feats.append("q:?count" + str(min(nq, 3)))
        stripped = unquoted.rstrip(" )]}\"'”.!😀😂🤣🙂🙃😉😅😊🤔🙏")
        if stripped.endswith("?"):
            feats.append("q:ends?")
            reasons.append("asks: ends with '?'")
        else:
            reasons.append("asks: '?' mid-text")
    # With no '?' of its own, an excerpt's wh-words open relative clauses
    # ("[…] which is why […]").
    if not nq and "[" in t and EXCERPT.search(t):
        feats.append("q:excerpt")
        reasons.append("not asking: an excerpt '[…]'")
    if nq and "!" in unquoted and _INTERROBANG.search(unquoted):
        feats.append("q:interrobang")
    m = _RHETORICAL.search(unquoted.lower()) if nq else None
    if m:
        feats.append("q:rhetorical")
        reasons.append(f"rhetorical: '{_words(m.group(0), 4)}'")
    lower = doc.lower
    toks = [x.norm for x in doc.tokens]
    words = doc.words
    reported = words & _REPORTED_VERBS or ("like" in words and words & _WAS_LIKE)
    m = _REPORTED.search(lower) if reported else None
    if m:
        feats.append("q:reported")
        reasons.append(f"not asking: reported '{_words(m.group(0), 4)}'")
    wh_done = inv_done = False
    if (words & _WH_WORDS) or (words & _AUX_WORDS):
        first_content = next(_clause_starts(toks), -1)
        for i in _clause_starts(toks):
            w = toks[i]
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            if not wh_done and w in _WH_WORDS:
                if nxt in _EXCLAIM_AFTER.get(w, ()) or (nxt == _EVER and not nq) or _bare_how(toks, i) or _idiom(toks, i):
                    feats.append("q:exclamative")
                else:
                    wh_done = True
                    feats.append("q:wh")
                    if i == first_content:
                        feats.append("q:wh_start")
                    # "what time does", "how do", "where can": the
                    # interrogative word order, not a relative clause.
                    # "when i didnt reply", "where it will end": a
                    # subject before the verb is a clause's order, not a question's.
                    if nxt in _AUX_WORDS or (nxt not in _PRONOUNS and i + 2 < len(toks) and toks[i + 2] in _AUX_WORDS):
                        feats.append("q:wh_aux")
                    reasons.append(f"asks: '{_words(' '.join(toks[i:i + 3]), 3)}'")
                    if nq and _ends_with_question_mark(toks, i):
                        feats.append("q:clause?")
            elif (
                not inv_done
                and w in _AUX_WORDS
                and (nxt in _SUBJ_WORDS or _nick_at(toks, i + 1))
                and not (w in _THIRD_SINGULAR_AUX and i > 0 and _is_nick(toks[i - 1]))
            ):
                inv_done = True
                feats.append("q:inversion")
                if i == first_content:
                    feats.append("q:inversion_start")
                reasons.append(f"asks: '{_words(' '.join(toks[i:i + 3]), 3)}'")
                if nq and _ends_with_question_mark(toks, i):
                    feats.append("q:clause?")
            if wh_done and inv_done:
                break
    m = _ASK.search(lower) if words & _ASK_TRIGGERS else None
    if m:
        feats.append("q:ask")
        reasons.append(f"asks: '{_words(m.group(0), 4)}'")
    m = _REQUEST.search(lower) if words & _REQUEST_TRIGGERS else None
    if m:
        feats.append("q:request")
        reasons.append(f"help request: '{_words(m.group(0), 4)}'")
    n = len(toks)
    feats.append("q:len" + ("0" if n == 0 else "1" if n <= 2 else "3" if n <= 5 else "6" if n <= 12 else "L"))
    return feats, reasons


def addressed_to_us(doc: Doc) -> bool:
    """Second person or a request to the reader: put to us, not about others."""
    lower = doc.lower
    if _SECOND_PERSON.search(lower):
        return True
    if _THIRD_PARTY.search(lower):
        return False
    # A post opening with a mention is a reply put to that account; asks such
    # as "any update" or "please help" are put to whoever reads it: us.
    return doc.leading_mention or bool(_IMPERATIVE_TO_US.search(lower) or _ASK.search(lower))


def ngram_features(doc: Doc) -> list[str]:
    toks = [t.norm for t in doc.tokens[:MAX_NGRAM_TOKENS]]
    if not toks:
        return []
    feats = ["f:" + toks[0], "f2:" + " ".join(toks[:2]), "l:" + toks[-1]]
    feats += ["w:" + w for w in toks]
    feats += doc.bigrams
    return feats
