"""What the analytics route answers."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field


class Totals(BaseModel):
    views: int
    likes: int
    comments: int


class Sentiment(BaseModel):
    Total: int
    Positive: int
    Negative: int
    Neutral: int


class DayRead(BaseModel):
    date: date
    plays: int
    likes: int = Field(description="Likes gained that day, net of likes withdrawn")
    comments: int = Field(description="Comments shown that day, net of those deleted")


class AnalyticsRead(BaseModel):
    songId: uuid.UUID
    totals: Totals
    sentiment: Sentiment
    days: int
    series: list[DayRead] = Field(description="One entry per UTC day, oldest first")
