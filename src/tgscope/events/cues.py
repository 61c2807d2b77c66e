"""The words that make an event, English and Russian, matched in folded text.

Each :class:`Cue` is a regular expression for one governing verb or headline noun phrase
("held talks", "meeting with", "telephone conversation", "remarks during a meeting with",
«провёл переговоры», «телефонный разговор», «на полях») and what it says: the event type,
the modes it fixes, and where the parties stand (``who``: before the cue acts on those after
it, as in "X invited Y"; ``all``: every party takes part, as in "X met Y").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cue:
    type: str
    pattern: re.Pattern[str]
    modes: tuple[str, ...] = ()
    who: str = "all"  # "all": parties on both sides; "directed": actor before, recipients after
    cameo: str | None = None
    modality: str | None = None  # a cue that fixes it ("invited … to visit": future)
    strong: bool = True  # False: counts only with parties of two states in the sentence


def _cue(type_: str, words: str, **given) -> Cue:
    return Cue(type_, re.compile(words), **given)


# Russian stems: «встретил(ся|ись)», «провёл/провели/проведёт» (folded: ё → е)
_RU_MEET = r"встрет(?:ил(?:ся|ась|ись)?|ятся|ится|иться)|встреч[аеиуы]\w*"
_RU_TALKS = r"переговор\w*|консультаци\w*|бесед\w*|разговор\w*"

CUES: tuple[Cue, ...] = (
    # -- CONSULT: by telephone ---------------------------------------------------------------
    _cue(
        "CONSULT",
        r"\b(?:tele)?phone (?:conversation|call|talks?|discussion)s?\b|\bspoke (?:over|on|by) the"
        r" (?:tele)?phone\b|\bspoke by phone\b|\b(?:tele)?phoned\b|\bphone call\b"
        r"|\bheld (?:a )?(?:tele)?phone\b|\bby (?:tele)?phone\b|\bover the (?:tele)?phone\b",
        modes=("phone",),
        cameo="041",
    ),
    _cue(
        "CONSULT",
        r"телефонн\w+ (?:разговор|бесед|переговор)\w*|по телефону|созвонил\w*|телефонный звонок",
        modes=("phone",),
        cameo="041",
    ),
    # -- CONSULT: by video ---------------------------------------------------------------------
    _cue(
        "CONSULT",
        r"\bvideo ?conference\b|\bvideo[- ]?(?:link|call|conferencing)\b|\bvirtual (?:meeting"
        r"|summit|talks)\b|\bonline (?:talks|meeting|summit)\b",
        modes=("video",),
        cameo="040",
    ),
    _cue(
        "CONSULT",
        r"видеоконференц\w*|видеосвяз\w*|по видео\w*|онлайн-(?:встреч|переговор|саммит)\w*",
        modes=("video",),
        cameo="040",
    ),
    # -- CONSULT: in person ----------------------------------------------------------------------
    _cue(
        "CONSULT",
        r"\b(?:met|meets|meeting|meet) (?:with|on the sidelines|in|at)\b|\bmet\b|\b(?:to|will|may"
        r"|would|could|plans to) meet\b"
        r"|\b(?:held|hold|holds|holding|had|have) (?:a |an )?(?:meeting|talks|consultations"
        r"|conversation|discussions?)\b"
        r"|\btalks (?:with|between)\b|\bconsultations (?:with|between)\b"
        r"|\bremarks (?:during|at|before|following|after) (?:the |a |his |her )?(?:meeting|talks"
        r"|news conference)\b"
        r"|\bmeeting (?:between|of)\b|\bnegotiations (?:with|between)\b|\btête-à-tête\b"
        r"|\b(?:meeting|talks|summit|negotiations|consultations) (?:was|were|had been"
        r"|has been) held\b",
        modes=(),
        cameo="040",
    ),
    _cue(
        "CONSULT",
        rf"{_RU_MEET}|(?:провел[аи]?|проведут|проводит|проводят) (?:\w+ )?(?:{_RU_TALKS})",
        cameo="040",
    ),
    _cue(
        "CONSULT",
        rf"\b(?:переговоры|консультации|беседа|беседу) (?:с|между)\b|состоял(?:ся|ись"
        rf"|ась) (?:\w+ )?(?:{_RU_TALKS}|встреч\w*)",
        cameo="040",
    ),
    _cue(
        "CONSULT",
        r"\b(?:talked|spoke|conferred|chatted) with\b|\bheld a conversation\b"
        r"|\bpress conference with\b"
        r"|пообщал\w*|побеседовал\w*|переговорил\w*|беседовал\w*",
        cameo="040",
    ),
    _cue("CONSULT", r"\bзвонил\w*|\bпозвонил\w*|\bсозвон\w*", modes=("phone",), cameo="041"),
    # taking part in a summit, session or forum: a multilateral meeting with its body
    _cue(
        "CONSULT",
        r"\b(?:take|takes|took|taking) part in\b|\bparticipat(?:e|es|ed|ing) in\b|\battend(?:s|ed"
        r"|ing)?\b"
        r"|участи[еяю] в\b|примет участие|принял\w* участие|примут участие|участвовал\w*|участвует",
        modes=("multilateral",),
        cameo="040",
        strong=False,
    ),
    # the nouns alone: a meeting only when parties of two states are named with it
    _cue(
        "CONSULT",
        r"\b(?:talks|meeting|meetings|summit|negotiations|consultations|conversation)\b"
        r"|(?:прошл[иао]?|прош[её]л|начал\w*|завершил\w*|продолжил\w*) (?:\w+ )?(?:переговор"
        r"|встреч)\w*"
        r"|\bпереговор\w*|\bвстреч[аеиу]\b|\bсаммит\w*",
        cameo="040",
        strong=False,
    ),
    # -- CONSULT: a visit ------------------------------------------------------------------------
    _cue(
        "CONSULT",
        r"\b(?:official |state |working )?visit(?:ed|s|ing)? (?:to )?\b|\barrived in\b"
        r"|\bwelcomed\b|\breceived\b|\bhosted\b",
        modes=("visit",),
        cameo="042",
        strong=False,
    ),
    _cue(
        "CONSULT",
        r"визит\w*|посети\w*|посещени\w*|прибыл\w*|принял[аи]? (?!участ|решени|мер|заявлени|закон)",
        modes=("visit",),
        cameo="042",
        strong=False,
    ),
    # -- AGREE -------------------------------------------------------------------------------------
    _cue(
        "AGREE",
        r"(?<!at the )\binvit(?:ed|es|ation)\b[^.;]{0,120}?\bto (?:visit|come|attend|take part)\b"
        r"|\binvited\b|\baccepted (?:an |the )?invitation\b|\bextended an invitation\b",
        who="directed",
        cameo="036",
        modality="future",
    ),
    _cue(
        "AGREE",
        r"пригласил\w*|(?<!по )приглашени\w*|принял\w* приглашение",
        who="directed",
        cameo="036",
        modality="future",
    ),
    _cue(
        "AGREE",
        r"\bagreed to (?:meet|hold|continue|visit|prepare)\b|\bagreed on (?:a|the) (?:visit"
        r"|meeting)\b"
        r"|\bagreed (?:to|on|that)\b",
        cameo="036",
        modality="future",
    ),
    _cue(
        "AGREE",
        r"договорил\w* (?:о|об|провести|встретиться)|условил\w*|согласовал\w*|договорились",
        cameo="036",
        modality="future",
    ),
    _cue("AGREE", r"\bsigned\b|\bsigning (?:of|ceremony)\b", cameo="057"),
    _cue("AGREE", r"подписал\w*|подписани\w*", cameo="057"),
    # -- SUPPORT -----------------------------------------------------------------------------------
    _cue(
        "SUPPORT",
        r"\bcongratulat\w*|\bpraised?\b|\bcommend(?:ed|s)?\b|\bhighly (?:appreciated|valued"
        r"|assessed)\b"
        r"|\bthanked\b|\bexpressed (?:his |her |its |their )?(?:gratitude|appreciation|support)\b"
        r"|\bcongratulatory\b|\bgrateful\b|\bappreciated\b",
        who="directed",
        cameo="051",
    ),
    _cue(
        "SUPPORT",
        r"поздрав\w*|высоко оцени\w*|поблагодари\w*|благодарн\w*|признательн\w*"
        r"|выразил\w* (?:признательность|благодарность"
        r"|поддержку)",
        who="directed",
        cameo="051",
    ),
    _cue(
        "SUPPORT",
        r"\bcondolences?\b|\bsympathy\b|соболезновани\w*|сочувстви\w*",
        who="directed",
        cameo="018",
    ),
    _cue(
        "THREATEN",
        r"\bretaliat\w*|\bwill (?:answer|respond)\b|\bwarned\b|\bthreaten\w*|\bresponse measures\b"
        r"|\bcountermeasures\b|ответн\w+ мер\w*|ответит|последуют|получат ответ|пригрози\w*"
        r"|предупредил\w*|предупредили|ответят",
        who="directed",
        cameo="130",
    ),
    # -- ACCUSE and the rest ---------------------------------------------------------------
    _cue(
        "ACCUSE",
        r"\b(?:condemn|criticiz|criticis|denounc|accus|blam)\w*|\bblackmail\b"
        r"|\bprovocations? (?:from|by|of)\b"
        r"|\bexpressed (?:deep |serious |grave )?concern\b|\bunfriendly (?:steps|acts?|actions)\b"
        r"|\bpressure from\b|\bhostile actions\b|\bcalled [^.]{0,40} a \"?dictator\b|\balleged\b"
        r"|\brejected the policy\b|\bon the part of\b",
        who="directed",
        cameo="111",
        strong=False,
    ),
    _cue(
        "ACCUSE",
        r"осуди\w*|осужда\w*|раскритикова\w*|обвини\w*|обвиня\w*|шантаж\w*|провокаци\w*"
        r"|упрекну\w*|неприемлем\w*|враждебн\w+ действи\w*|недружественн\w+|нарушени\w*"
        r"|выразил\w* (?:серьезн\w+ |глубок\w+ )?обеспокоенност\w*",
        who="directed",
        cameo="111",
        strong=False,
    ),
    _cue(
        "PROTEST",
        r"\b(?:lodged|lodge|expressed|delivered) (?:a |an )?(?:strong |firm |resolute )?(?:protest"
        r"|démarche|demarche)\b|\bsummoned\b|\bnote of protest\b",
        who="directed",
        cameo="114",
    ),
    _cue(
        "PROTEST",
        r"выразил\w* (?:решительный |решительн\w+ )?протест|вызван\w*|заявил\w* протест"
        r"|нот[аыу] протеста|демарш\w*",
        who="directed",
        cameo="114",
    ),
    _cue(
        "SANCTION",
        r"\bexpel(?:led|s)?\b|\bexpulsion\b|\bpersona non grata\b|\bimposed (?:new )?sanctions\b"
        r"|\bsanctions against\b",
        who="directed",
        cameo="163",
    ),
    _cue(
        "SANCTION",
        r"высыл\w*|выслать|выдвор\w*|персонами нон грата|ввел\w* санкци\w*|санкци\w* против",
        who="directed",
        cameo="163",
    ),
    _cue(
        "REJECT",
        r"\brejected\b|\bdenied\b|\brefuted\b|отверг\w*|опроверг\w*",
        who="directed",
        cameo="120",
        strong=False,
    ),
)

# -- what a sentence says of its event ----------------------------------------------------------

FUTURE = re.compile(
    r"\bwill\b|\bwould\b|\bshall\b|\bmay (?:be|soon|meet|hold|visit|take|have|travel|also)\b"
    r"|\bmight\b|\bto be held\b"
    r"|\bunlikely\b"
    r"|\b(?:is|are|was|were) (?:due|scheduled|expected|set|planned|slated|going) to\b"
    r"|\bscheduled\b|\bplann(?:ed|ing)\b|\bplans? to\b|\bupcoming\b|\bforthcoming\b"
    r"|\bpossible\b|\bpotential\b|\bprospective\b|\bahead of\b|\blook(?:s|ing)? forward\b"
    r"|\bnext (?:week|month|year)\b|\bis to (?:visit|meet|hold)\b"
    r"|(?<!glad )(?<!happy )(?<!pleased )(?<!nice )\bto (?:have|hold|meet|visit)\b"
    r"|\bagreed to\b|\bintend\w*\b|\bwould like to\b|\bat a convenient time\b|\btomorrow\b"
    r"|\bbeing (?:worked out|negotiated|prepared|discussed|arranged)\b|\bpreparations? for\b"
    r"|\bannounced\b|\bhopes? to\b|\bready to\b|\bin the works\b"
    r"|будет|будут|состоится|состоятся|планиру\w*|запланирован\w*|предстоящ\w*|намерен\w*"
    r"|проведет|проведут|посетит|посетят|встретится|встретятся|примет участие|примут участие"
    r"|завтра|в удобное время|может|могут|возможн\w*|готовящ\w*|подготовк\w*|ожида\w*"
    r"|анонсирова\w*|собирается|отправится|прибудет|пройдут|пройдет|в ходе предстоящ\w*"
    r"|впереди|прорабатыва\w*|рассчитыва\w*|присоединится|для участия|условились провести"
)
NEGATED = re.compile(
    r"\bno (?:meeting|talks|contacts?|plans?|such)\b|\bnot (?:planned|scheduled|take place|be held"
    r"|meet|met|hold|preparing|planning|on the agenda)\b|\bcancel(?:l?ed|s)?\b|\bcalled off\b"
    r"|\bpostponed\b|\bdid not\b|\bdidn't\b|\bhas not\b|\bhave not\b|\bwithout a meeting\b"
    r"|\bdenied\b|\brefuted\b|\bruled out\b|\brefused\b|\bdeclined to\b"
    r"|(?<!\w)не (?:планируется|состоится|состоялась|состоялся|состоялись|было|будет|ведется"
    r"|готовится"
    r"|встреча\w*|провод\w*|стоит)|отмен\w*|отложен\w*|перенесен\w*|опроверг\w*"
    r"|(?<!\w)не встреча\w*"
    r"|(?<!\w)не проводил\w*|нет планов|исключил\w*|отказал\w*"
)
REPORTED = re.compile(
    r"\blatest meeting\b|\blast met\b|\bprevious(?:ly)?\b|\bearlier\b|\blast (?:year|month|week"
    r"|september|october|november|december|january|february|march|april|may|june|july|august)\b"
    r"|\bduring (?:their|his|her) [^.]{0,40}(?:summit|visit|meeting|talks)\b|\bwas held in\b"
    r"|\breportedly\b|\baccording to\b|\breported(?:ly)? that\b|\bfirst (?:full-format )?meeting\b"
    r"|\bcommented on\b"
    r"|последн\w+ встреч\w*|предыдущ\w+|ранее|недавно|по данным|по сообщени\w*|как сообща\w*"
    r"|в прошлом году|прошлого года|\blast year\b"
)
SIDELINES = re.compile(
    r"\bon the sidelines\b|\bon the margins\b|\bin the margins\b|\bon the fringes\b|на полях"
    r"|в кулуарах"
)
TWO_SIDES = re.compile(
    r"\bthe (?:two |both )?(?:sides|parties|ministers|officials|leaders|presidents|heads of state"
    r"|foreign ministers|interlocutors|diplomats)\b"
    r"|\bboth (?:sides|ministers|leaders)\b|\bthey\b|\btheir\b|стороны|министры|лидеры|президенты"
    r"|собеседники|главы (?:государств|мид|внешнеполитических ведомств)"
)
WEST = re.compile(
    r"\b(?:certain )?western (?:countries|states|nations|partners|capitals)\b|\bthe west\b"
    r"|\bcollective west\b|западн\w+ (?:стран|государств|партнер|столиц)\w*|(?<!\w)запад\w*\b"
)
