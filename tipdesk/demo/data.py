"""Pools and shares for synthetic demo data (invented people; no real person or case).

Shares follow the regional profile in the customer's standards folder (UNODC GLOTIP, Latin
America and the Caribbean 2017–2022): women 46 %, girls 18 %, men 28 %, boys 7 %; sexual
exploitation 50 %, forced labour 35 %, other forms 15 % of forms reported; mostly nationals,
then regional neighbours (Venezuela, Haiti, Cuba, Colombia, the Dominican Republic, Guyana,
Honduras, Panama) and a few from further away (Myanmar).
"""

from __future__ import annotations

#: (sex group, share): adult woman, girl, adult man, boy; plus a few other or unknown genders.
SEX_AGE_SHARES = (("woman", 45), ("girl", 18), ("man", 28), ("boy", 7), ("other", 2))

#: citizenship → share (‰). "" = not recorded.
CITIZENSHIP_SHARES = (
    ("JAM", 700), ("VEN", 70), ("HTI", 50), ("CUB", 30), ("COL", 25), ("DOM", 25), ("GUY", 25),
    ("HND", 12), ("PAN", 10), ("MMR", 8), ("TTO", 10), ("", 35),
)

#: name pool of each citizenship
NAME_POOL_OF = {
    "JAM": "english", "GUY": "guyanese", "TTO": "english", "VEN": "spanish", "CUB": "spanish",
    "COL": "spanish", "DOM": "spanish", "HND": "spanish", "PAN": "spanish", "HTI": "haitian",
    "MMR": "burmese", "": "english",
}

GIVEN = {
    "english": {
        "F": ["Shanice", "Kimberly", "Tashana", "Kerry-Ann", "Monique", "Andrea", "Tamika",
              "Sasha-Kay", "Shantel", "Nordia", "Tanesha", "Abigail", "Brianna", "Shanique",
              "Kadian", "Latoya", "Nicole", "Stacy-Ann", "Tiffany", "Ashanti", "Jhanelle",
              "Kayla", "Renee", "Simone", "Annmarie", "Danielle", "Gabrielle", "Jodian",
              "Keisha", "Marsha", "Natalie", "Rochelle", "Sherika", "Trudy-Ann", "Yanique"],
        "M": ["Rushane", "Kemar", "Andre", "Dwayne", "Romario", "Odane", "Jevaughn", "Shamar",
              "Kevin", "Damion", "Ricardo", "Omar", "Tyrone", "Delroy", "Garfield", "Jermaine",
              "Kirk", "Leroy", "Marlon", "Nickoy", "Oneil", "Orane", "Rohan", "Shane",
              "Tajay", "Troy", "Javier", "Akeem", "Chevaughn", "Devon"],
    },
    "spanish": {
        "F": ["María José", "Génesis", "Yésica", "Daniela", "Valentina", "Andreína", "Yuleisy",
              "María Fernanda", "Rosa", "Carolina", "Dayana", "Yusmary", "Luisa", "Ángela",
              "Marisol", "Lucía", "Sofía", "Milagros", "Yaneisy", "Xiomara"],
        "M": ["José Luis", "Andrés", "Ángel", "Luis Ángel", "Carlos", "Jesús", "Yorman",
              "Juan Carlos", "Miguel", "Rafael", "Jhonny", "Wilmer", "Héctor", "Óscar",
              "Darwin", "Yeferson", "Ramón", "Julio César"],
    },
    "haitian": {
        "F": ["Marie-Ange", "Widlene", "Nadège", "Fabiola", "Guerline", "Rose-Marie",
              "Islande", "Mirlande", "Esther", "Roseline", "Nathalie", "Sabine", "Jessica"],
        "M": ["Jean", "Wilner", "Jean-Baptiste", "Pierre", "Jacquelin", "Wesner", "Frantz",
              "Ronald", "Stanley", "Kervens", "Jackson", "Fritz", "Evens"],
    },
    "guyanese": {
        "F": ["Shanta", "Devika", "Kamla", "Savitri", "Indira", "Omattie", "Chandra", "Shabana",
              "Leona", "Shondell", "Keisha", "Natasha"],
        "M": ["Ravi", "Anil", "Deonarine", "Vishnu", "Mohamed", "Rohan", "Kwame", "Shawn",
              "Lennox", "Terrence", "Rajesh"],
    },
    "burmese": {
        "F": ["Thida", "Mya", "Hnin", "Ei Ei", "Khin", "Nilar", "Su Su"],
        "M": ["Aung", "Kyaw", "Zaw", "Htet", "Min", "Thura", "Soe"],
    },
}

FAMILY = {
    "english": ["Brown", "Williams", "Campbell", "Thompson", "Smith", "Clarke", "Johnson", "Reid",
                "Morgan", "Francis", "Wright", "Henry", "Grant", "Gordon", "Lewis", "McKenzie",
                "Walker", "Anderson", "Robinson", "Stewart", "Bailey", "Powell", "Richards",
                "Palmer", "Spence", "Ellis", "Gayle", "Salmon", "Bennett", "Blake", "Dixon",
                "Edwards", "Green", "Hall", "Miller", "Mitchell", "Nelson", "Pryce", "Samuels",
                "Stephenson", "Watson", "Whyte", "Facey", "Ferguson", "Hylton", "Lindo",
                "McLean", "Morrison", "Ricketts", "Shaw", "Simpson", "Tulloch", "Wilson",
                "Young", "Barrett", "Daley", "Forbes", "Gooden", "Harris", "James"],
    "spanish": ["Pérez", "González", "Rodríguez", "Hernández", "García", "Martínez", "López",
                "Ramírez", "Díaz", "Muñoz", "Gómez", "Peña", "Núñez", "Suárez", "Castillo",
                "Álvarez", "Rojas", "Moreno", "Jiménez", "Torres", "Vásquez", "Medina",
                "Ortiz", "Guzmán", "Cordero", "Benítez", "Marín", "Colón"],
    "haitian": ["Jean-Louis", "Joseph", "Pierre", "Célestin", "Désir", "Théodore", "Dorvil",
                "Étienne", "Saint-Fleur", "Lamour", "Charles", "Augustin", "Baptiste",
                "Exantus", "Fleurimond", "Jean-Pierre", "Louis", "Noël", "Valcourt"],
    "guyanese": ["Persaud", "Singh", "Ramdass", "Khan", "Narine", "Bacchus", "Ramotar",
                 "Sookdeo", "Mohabir", "Williams", "Adams", "DeFreitas", "Jagdeo", "Baksh"],
    "burmese": ["", "", "Win", "Oo", "Naing", "Lwin"],
}

NICKNAMES = ["Tash", "Sweets", "Shorty", "Princess", "Bigga", "Cookie", "Dimples", "Chubby",
             "Red", "Blacka", "Tiny", "Skinny", "Brownin", "Yaya", "La Flaca", "Negrita",
             "Ti Chouchou", "Baby", "Juju", "Pinky"]

#: forms of exploitation by sex group, with shares (%) — each case draws one main form.
FORMS = {
    "F": (("SexualExploitation", 68), ("ForcedLabour", 20), ("Servitude", 4), ("ForcedMarriage", 3),
          ("ForcedBegging", 2), ("Other", 2), ("Surrogacy", 1)),
    "M": (("ForcedLabour", 66), ("SexualExploitation", 14), ("ForcedBegging", 6), ("Other", 6),
          ("Servitude", 4), ("ForcedMilitaryByNonStateActors", 2), ("OrganRemoval", 2)),
    "child": (("SexualExploitation", 52), ("ChildLabour", 22), ("ForcedBegging", 10),
              ("ForcedLabour", 6), ("ForcedMarriage", 5), ("ForcedAdoption", 2), ("Other", 3)),
}

LABOUR_INDUSTRIES = (
    ("A_AgricultureForestryAndFishing", 30), ("T_ActivitiesOfHouseholdsAsEmployers", 22),
    ("I_AccommodationAndFoodServiceActivities", 16), ("F_Construction", 12),
    ("G_WholesaleAndRetailTradeRepairOfMotorVehicles", 8), ("C_Manufacturing", 5),
    ("S_OtherServiceActivities", 4), ("B_MiningAndQuarrying", 3),
)
SEX_EXPLOITATION = (("Prostitution", 70), ("PrivateSexualServices", 12), ("Pornography", 10),
                    ("RemoteInteractiveServices", 8))

JAMAICAN_PLACES = ["Kingston", "Montego Bay", "Ocho Rios", "Negril", "Spanish Town", "Mandeville",
                   "May Pen", "Port Antonio", "Savanna-la-Mar", "Falmouth", "Portmore",
                   "Morant Bay", "Lucea", "Black River", "St. Ann's Bay", "Half Way Tree",
                   "Old Harbour", "Linstead", "Santa Cruz", "Runaway Bay"]
FOREIGN_PLACES = {
    "VEN": ["Caracas", "Maracaibo", "Valencia", "Puerto La Cruz", "Cumaná"],
    "HTI": ["Port-au-Prince", "Cap-Haïtien", "Les Cayes", "Gonaïves", "Jacmel"],
    "CUB": ["La Habana", "Santiago de Cuba", "Camagüey", "Holguín"],
    "COL": ["Bogotá", "Barranquilla", "Cartagena", "Medellín", "Cali"],
    "DOM": ["Santo Domingo", "Santiago de los Caballeros", "Puerto Plata", "La Romana"],
    "GUY": ["Georgetown", "Linden", "New Amsterdam", "Bartica"],
    "HND": ["Tegucigalpa", "San Pedro Sula", "La Ceiba"],
    "PAN": ["Panamá", "Colón", "David"],
    "MMR": ["Yangon", "Mawlamyine", "Myawaddy"],
    "TTO": ["Port of Spain", "San Fernando", "Chaguanas"],
    "USA": ["Miami", "New York", "Atlanta"],
    "CAN": ["Toronto", "Leamington"],
    "BHS": ["Nassau", "Freeport"],
    "CYM": ["George Town"],
    "GBR": ["London", "Birmingham"],
    "THA": ["Bangkok", "Mae Sot"],
}
#: where Jamaicans exploited abroad were taken (share among those)
ABROAD = (("TTO", 25), ("USA", 25), ("BHS", 15), ("CAN", 15), ("CYM", 10), ("GBR", 10))
#: transit countries for foreigners coming to Jamaica
TRANSIT = {"VEN": ["TTO", "PAN"], "COL": ["PAN"], "HND": ["PAN"], "MMR": ["THA"],
           "HTI": ["DOM"], "CUB": [], "DOM": [], "GUY": ["TTO"], "PAN": [], "TTO": []}

#: partner organisations: (code, name, HTCDS org_Type, country, share as identifier ‰)
PARTNERS = (
    ("CTIP", "Anti-Trafficking Police Unit", "LawEnforcement", "JAM", 260),
    ("PARP", "Parish police stations", "LawEnforcement", "JAM", 120),
    ("PICA", "Immigration and Passport Agency", "ImmigrationService", "JAM", 90),
    ("CPFS", "Child Protection and Family Services", "CentralGovernmentOrganisation", "JAM", 90),
    ("MLSS", "Labour Inspectorate", "CentralGovernmentOrganisation", "JAM", 60),
    ("KPHX", "Kingston Public Hospital", "HealthServiceOrganisation", "JAM", 40),
    ("CRHX", "Western Regional Hospital", "HealthServiceOrganisation", "JAM", 25),
    ("SHWS", "Safe Harbour Women's Shelter", "NGO", "JAM", 70),
    ("HSCH", "Hope Springs Children's Home", "NGO", "JAM", 30),
    ("CMSN", "Caribbean Migrant Support Network", "NGO", "JAM", 50),
    ("LACK", "Kingston Legal Aid Clinic", "LegalService", "JAM", 15),
    ("SAPC", "St Ann Municipal Corporation", "LocalGovernmentOrganisation", "JAM", 10),
    ("MBCC", "Montego Bay Community College", "SchoolOrCollege", "JAM", 10),
    ("BMRL", "Blue Mountain Resorts Ltd", "CorporateBusiness", "JAM", 5),
    ("TTPS", "Trinidad and Tobago Counter-Trafficking Unit", "LawEnforcement", "TTO", 5),
)
#: partners that receive outgoing referrals (codes)
REFERRAL_TARGETS = ("SHWS", "HSCH", "CMSN", "LACK", "CPFS", "KPHX", "MLSS", "PICA", "CTIP")

CLOSURE_REASONS = (
    "Reintegrated with family; follow-up completed.",
    "Returned home safely (assisted voluntary return).",
    "Person no longer wishes to receive support.",
    "Moved to independent living; goals of the support plan met.",
    "Lost contact after repeated attempts.",
    "Person relocated abroad.",
)
REFERRED_REASONS = (
    "Referred to a specialised children's service.",
    "Referred to a shelter in another parish for safety.",
    "Referred to the country of origin's support programme.",
)
DECIDERS = (("Police", 55), ("NGO", 15), ("CourtOrProsecution", 15),
            ("NonPoliceGovernmentalOrganization", 15))
NOT_A_VICTIM_NOTES = (
    "Labour dispute without indicators of trafficking; referred to the labour inspectorate.",
    "Smuggling without exploitation.",
    "Indicators not confirmed after interview.",
)
