"""The demo's synthetic caseload as plain data (`alliance demo` writes it: demo.py).

Seven invented patients in care over twelve weekly sessions, each showing one thing the
tool is for, and twelve discharged over the past year, each with how care ended and its
goals rated on Goal Attainment Scaling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEEKS = 12
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class DemoPatient:
    code: str
    profile: dict[str, str]
    ratings: list[Triple | None]  # one per week, None = no session that week
    therapist_ratings: list[Triple | None] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    goals: list[tuple[str, str, str]] = field(default_factory=list)  # text, by, final status
    tasks: list[tuple[str, int | None, list[str]]] = field(default_factory=list)
    # The rupture question (`session add --rupture`): asked in every session when True,
    # the answer `none` unless given here by (rater, week).
    asks_rupture: bool = False
    ruptures: dict[tuple[str, int], str] = field(default_factory=dict)
    repairs: list[tuple[int, str, str]] = field(default_factory=list)  # week, strategy, note


def series(
    start: Triple, end: Triple, weeks: int = WEEKS, *, steady: bool = False
) -> list[Triple | None]:
    """A straight line from start to end with a small fixed wobble, rounded to .5."""
    wobble = (
        (0.0,) * WEEKS
        if steady
        else (0.0, 0.5, -0.5, 0.0, 0.5, 0.0, -0.5, 0.0, 0.5, -0.5, 0.0, 0.0)
    )
    rows: list[Triple | None] = []
    for week in range(weeks):
        share = week / (weeks - 1)
        values = [
            min(10.0, max(0.0, round((s + (e - s) * share + wobble[week]) * 2) / 2))
            for s, e in zip(start, end, strict=True)
        ]
        rows.append((values[0], values[1], values[2]))
    return rows


def caseload() -> list[DemoPatient]:
    rupture = series((8.0, 8.0, 7.5), (8.5, 8.5, 8.0))
    rupture[5] = (4.5, 5.0, 4.0)
    rupture[6] = (7.5, 7.5, 7.0)
    stopped = series((7.5, 7.0, 7.0), (6.0, 5.5, 5.0))[:5] + [None] * (WEEKS - 5)
    return [
        DemoPatient(
            code="D01",
            profile={
                "expectations": "fewer panic attacks at work",
                "beliefs": "anxiety is a weakness",
                "emotional_state": "tense but hopeful",
                "social_context": "married, two children, supportive partner",
            },
            ratings=series((8.0, 8.0, 7.5), (9.0, 8.5, 8.5)),
            goals=[
                ("Take the train to work alone", "joint", "achieved"),
                ("Use breathing exercise when panic starts", "patient", "active"),
            ],
            tasks=[("Exposure diary, daily", 1, ["done", "done", "partly"])],
        ),
        DemoPatient(
            code="D02",
            profile={
                "expectations": "wants quick advice, not talking",
                "beliefs": "low mood is caused by the job only",
                "emotional_state": "low, irritable",
                "social_context": "recently separated, lives alone",
            },
            ratings=series((8.5, 8.0, 8.0), (5.0, 5.0, 4.5), steady=True),
            notes={8: "missed homework again, seemed disengaged", 11: "asked to space sessions"},
            goals=[("Return to a regular sleep routine", "therapist", "active")],
            tasks=[
                ("Activity scheduling, 3 pleasant activities a week", 1, ["partly", "not-done"]),
                ("Sleep diary", 1, ["partly", "not-done", "not-done"]),
            ],
        ),
        DemoPatient(
            code="D03",
            profile={
                "expectations": "understand recurring conflicts",
                "emotional_state": "guarded",
                "social_context": "close to parents, few friends",
            },
            ratings=rupture,
            notes={
                5: "rupture: confrontation about homework load",
                6: "talked the rupture through, agreed a lighter plan",
            },
            repairs=[(5, "explore", "invited the complaint, owned the heavy homework plan")],
            goals=[("Name feelings before conflicts escalate", "joint", "active")],
            tasks=[("Conflict log, twice a week", 1, ["not-done", "partly", "done"])],
        ),
        DemoPatient(
            code="D04",
            profile={
                "expectations": "get the doctor off their back",
                "beliefs": "therapy is for other people",
                "social_context": "sent by GP, partner pushed for it",
            },
            ratings=series((9.0, 9.0, 9.0), (9.5, 9.0, 9.0)),
            therapist_ratings=series((6.0, 5.5, 6.0), (6.5, 5.5, 5.5)),
            notes={3: "patient rates very high; therapist senses polite compliance"},
            goals=[("Cut down drinking to weekends", "therapist", "active")],
            tasks=[("Drink-free days log", 1, ["partly", "partly"])],
        ),
        DemoPatient(
            code="D05",
            profile={
                "expectations": "stop the worrying",
                "emotional_state": "anxious, exhausted",
                "social_context": "carer for an ill parent",
            },
            ratings=stopped,
            notes={4: "cancelled the next two appointments"},
            goals=[("Worry time, 20 minutes a day", "joint", "active")],
            tasks=[("Worry postponement", 1, ["partly"])],
        ),
        DemoPatient(
            code="D06",
            profile={
                "expectations": "back to running",
                "beliefs": "pain means damage",
                "emotional_state": "frustrated",
                "social_context": "lives alone, supportive sister",
            },
            ratings=series((5.0, 5.5, 4.5), (8.5, 8.5, 8.0)),
            goals=[("Run 5 km without pain", "joint", "active")],
            tasks=[("Hip exercises, 3x a week", 1, ["partly", "done", "done", "done"])],
        ),
        DemoPatient(
            code="D07",
            profile={
                "expectations": "cope with grief after a parent's death",
                "beliefs": "should be over it by now",
                "emotional_state": "sad, very polite",
                "social_context": "works full time, sister abroad",
            },
            ratings=[*series((8.0, 8.0, 7.5), (8.5, 8.0, 8.0))[:-1], (7.5, 7.5, 7.5)],
            therapist_ratings=series((7.5, 7.5, 7.5), (8.5, 8.0, 8.0)),
            notes={11: "good session, planned the anniversary visit"},
            goals=[("Talk about the loss with a friend", "joint", "active")],
            tasks=[("Write a letter to the parent, not to send", 1, ["done", "done"])],
            asks_rupture=True,
            ruptures={("patient", 11): "withdrawal"},
        ),
    ]


@dataclass(frozen=True)
class PastPatient:
    """A discharged demo patient: weekly sessions from `start` to `end` (quick), care
    ended `ago` weeks before today, two goals rated on GAS at discharge."""

    code: str
    weeks: int
    ago: int
    start: Triple
    end: Triple
    ending: str
    gas: tuple[int, int]
    dip: int | None = None  # a rupture: this week falls 2 points on each dimension
    dip_weeks: int = 1  # ... for this many weeks (past the end: never repaired)


PAST = (
    PastPatient("D08", 10, 30, (8.5, 8.5, 8.0), (9.0, 9.0, 8.5), "mutual", (1, 0)),
    PastPatient("D09", 8, 26, (8.0, 7.5, 7.5), (8.5, 8.5, 8.0), "mutual", (0, 0)),
    PastPatient("D10", 3, 40, (5.0, 4.5, 4.5), (4.5, 4.0, 4.0), "dropout", (-1, -1)),
    PastPatient("D11", 9, 20, (7.0, 7.0, 6.5), (8.5, 8.0, 8.0), "mutual", (1, 1)),
    PastPatient("D12", 4, 35, (6.0, 5.5, 5.0), (5.5, 5.0, 5.0), "dropout", (-1, -2)),
    PastPatient("D13", 12, 44, (7.5, 7.5, 7.0), (8.0, 8.0, 8.0), "mutual", (0, 1), dip=6),
    PastPatient(
        "D14", 6, 16, (6.5, 6.5, 6.0), (6.0, 6.0, 5.5), "dropout", (-1, -1), dip=4, dip_weeks=9
    ),
    PastPatient("D15", 8, 24, (7.5, 7.0, 7.0), (8.0, 7.5, 7.5), "referred", (0, -1)),
    PastPatient("D16", 7, 12, (8.0, 8.0, 8.0), (8.5, 8.5, 8.5), "moved", (0, 0)),
    PastPatient("D17", 10, 50, (6.5, 6.0, 6.0), (8.0, 7.5, 7.5), "mutual", (0, 1)),
    PastPatient("D18", 11, 8, (9.0, 8.5, 8.5), (9.0, 9.0, 9.0), "mutual", (2, 1)),
    PastPatient("D19", 5, 30, (5.5, 5.5, 5.0), (6.0, 6.0, 5.5), "other", (-1, 0)),
)
PAST_GOALS = ("Agreed goal 1", "Agreed goal 2")


def past_ratings(past: PastPatient) -> list[Triple]:
    rows = [r for r in series(past.start, past.end, past.weeks) if r is not None]
    if past.dip is not None:
        for week in range(past.dip, min(past.dip + past.dip_weeks, len(rows))):
            b, g, t = rows[week]
            rows[week] = (max(0.0, b - 2.0), max(0.0, g - 2.0), max(0.0, t - 2.0))
    return rows
