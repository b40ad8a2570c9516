"""The English words the keyphrase chunker (ytmaker.keyphrases) tells apart: verbs, verb markers, generic nouns, adjectives.

Lists, not a tagger: a tagger that knows English grammar needs a model download
(ytmaker.keyphrases says why there is none).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: verbs, auxiliaries and other words that never sit inside a noun phrase
NOT_NOUN = _words("""
is are was were be been being am has have had having do does did done get gets got gotten getting make makes made
go goes went gone come comes came take takes took taken give gives gave given see sees saw seen say says said know
knows knew known think thinks thought find finds found use uses want wants need needs look looks seem seems seemed
become becomes became grow grows grew grown fall falls fell fallen turn turns hit hits build builds built keep keeps
kept learn learns learnt show shows shown mean means meant help helps allow allows try tries tell tells told put puts
run runs ran set sets let lets begin begins began begun bring brings brought hold holds held lose loses lost pay pays
paid meet meets met include includes continue continues lead leads led leave leaves left feel feels felt live lives
change changes mount mounts cost costs rise rises rose risen sit sits sat stand stands stood eat eats ate eaten
sleep sleeps slept spend spends spent catch catches caught teach teaches taught buy buys bought sell sells sold
can cannot could will would shall should may might must also even still already yet often never always ever again
almost quite rather really perhaps maybe else however therefore thus instead today yesterday tomorrow ago later soon
there here whose whatever whichever whoever something anything nothing everything someone anyone everyone nobody
like unlike via per among amongst across around within without along toward towards behind beyond despite though
although unless whether since together near nearer nearest beside besides inside outside beneath underneath
throughout amid amidst versus another either neither several various back away apart
spread spreads starts cut cuts shut split hurt expect expects believe believes predict predicts argue argues suggest
suggests warn warns earlier struck wrote spoke chose drove rode broke froze stole wore tore shook forgot drew flew threw
blew sang rang drank swam sank stuck hung fought sought sent lent fled laid heard
zero once twice twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million
millions billion billions first second third fourth fifth half dozen
""")
#: a lower-case -er word right after one of these is a comparative ("the water is cleaner")
COPULA = _words("is are was were be been being become becomes became seem seems seemed get gets got grow grows grew")
#: auxiliaries: an -ing word after one of these is a verb ("prices are falling")
AUX = _words("is are was were be been being am has have had keep keeps kept start started stop stopped")
#: subjects, adverbs and modals a verb follows: the next word is the verb ("they drink", "it still starts", "could carry")
BEFORE_VERB = _words("""
i we they he she people also still often never always already usually sometimes rarely seldom
can cannot could will would shall should may might must
""")
#: nouns too general to name a topic on their own
GENERIC = _words("""
answer thing things way ways time times year years day days part parts kind kinds lot lots fact facts case cases
people person story stories place places point points end question questions example examples number numbers
century centuries decade decades month months week weeks hour hours minute minutes
""")
#: a phrase after one of these (and a determiner) is not its sentence's subject ("for a century, many cities…")
PREPOSITIONS = _words("for in on at by with from of during after before over under about since until through into to")
#: adjectives trimmed off a phrase's ends ("panels faster", "cheap storage")
ADJ = _words("""
big bigger biggest small smaller smallest large larger largest new newer old older good better best bad worse worst
great greater high higher low lower cheap cheaper cheapest fast faster slow slower easy easier hard harder thin
thinner long longer short shorter reliable comfortable possible important different available enough next last
""")
#: what a phrase is trimmed of at its ends, and may not be alone
TRIM = ADJ | GENERIC
#: plurals that modify the noun after them ("sales tax", "sports car"); other plurals end a noun phrase, where
#: a verb the lists do not know took two objects ("give rivers room")
PLURAL_MODIFIERS = _words("""
sales arms sports savings goods news customs clothes jeans physics economics politics mathematics series species
""")
