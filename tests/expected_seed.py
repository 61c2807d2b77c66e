"""The seed dump's five post texts, written out line by line from samples/russia_china_dump.txt."""

SEED_TEXTS = [
    "\n".join(
        [
            (
                "🇷🇺🇨🇳 Russia's Foreign Minister Sergey Lavrov & Foreign Minister of the People’s "
                "Republic of China Wang Yi met on the sidelines of the 77th Session of the UN Gen"
                "eral Assembly"
            ),
            "#RussiaChina #UNGA77",
            "📸 #PhotoOfTheDay",
        ]
    ),
    "\n".join(
        [
            (
                "🇷🇺🇨🇳 Foreign Minister Sergey Lavrov’s opening remarks during a meeting with Fore"
                "ign Minister of the People’s Republic of China Wang Yi on the sidelines of the G"
                "20 summit"
            ),
            "📍Denpasar, November 15, 2022",
            (
                "💬 I am glad to meet with you again, for the tenth meeting this year. The leaders"
                " of Russia and China also maintain regular contacts. Their latest meeting was he"
                "ld in Samarkand, on the sidelines of the SCO Heads of State Council meeting. The"
                "y reaffirmed the tasks that we are working on at this new stage in our relations"
                "."
            ),
            (
                "I also want to congratulate you, this time in person, and our Chinese friends pr"
                "esent here on the successful 20th National Congress of the Communist Party of Ch"
                "ina (CPC). We were all glad to hear that Mr Xi Jinping, the long-time friend of "
                "the Russian nation, was unanimously re-elected as General Secretary of the CPC C"
                "entral Committee. The re-election confirmed his incontestable political authorit"
                "y and support for his political course."
            ),
            "Read in full",
            "#RussiaChina",
        ]
    ),
    "\n".join(
        [
            (
                "🇷🇺🇨🇳 President of Russia Vladimir Putin met with President of the People’s Repub"
                "lic of China Xi Jinping, via videoconference."
            ),
            "Read in full",
            (
                "💬 President Vladimir Putin: In the context of growing geopolitical tensions, the"
                " importance of the Russian-Chinese strategic partnership as a stability factor i"
                "s growing. Our relations have passed all the tests, demonstrating their maturity"
                " and stability, and they continue to grow dynamically."
            ),
            (
                "Despite the unfavourable external situation, the illegitimate restrictions and p"
                "atent blackmail on the part of certain Western countries, Russia and China have "
                "achieved record high growth rates in mutual trade. In 2022, it increased by abou"
                "t 25 percent."
            ),
            (
                "📈 Energy supplies have reached unprecedented levels, and joint projects are unde"
                "rway to add capacity in hydrocarbons production and refining. In 2022, Russia be"
                "came one of the leaders in oil exports to China."
            ),
            (
                "Of course, defence and military technology cooperation, which contributes to ens"
                "uring the security of our countries and maintaining stability in key regions, ha"
                "s a special place in the entire range of Russian-Chinese cooperation and our rel"
                "ations. We aim to strengthen cooperation between the armed forces of Russia and "
                "China."
            ),
            (
                "🤝 Moscow and Beijing’s coordination on the international arena, including at the"
                " UN Security Council, the Shanghai Cooperation Organisation, BRICS, and the G20,"
                " serves to create a fair world order based on international law."
            ),
            (
                "❗️ We share the same views on the causes, course and logic of the ongoing transf"
                "ormation of the global geopolitical landscape. In the face of unprecedented pres"
                "sure and provocations from the West, we defend our principled positions and prot"
                "ect not only our own interests, but also the interests of all those who stand fo"
                "r a truly democratic world order and the right of countries to freely determine "
                "their destiny."
            ),
            "#RussiaChina",
        ]
    ),
    "\n".join(
        [
            (
                "🇷🇺🇨🇳📞 On January 9, Foreign Minister Sergey Lavrov spoke over the phone with For"
                "eign Minister of the People’s Republic of China Qin Gang."
            ),
            (
                "The Russian Minister congratulated his Chinese colleague on his recent appointme"
                "nt and wished him success in this responsible position."
            ),
            (
                "The two officials discussed topical matters on the bilateral, global and regiona"
                "l agendas. They rejected the policy of the United States and its satellites to e"
                "stablish a hegemony in global affairs, which prompts the West to provoke confron"
                "tation with Russia and China, interfere in their domestic affairs, and attempts "
                "to constrain the development of the two countries through sanctions and other il"
                "legitimate methods."
            ),
            (
                "The ministers went on to state that Moscow and Beijing were united in their appr"
                "oaches to fundamental matters on the global development agenda. They gave a posi"
                "tive assessment of the constructive dialogue and high level of bilateral coordin"
                "ation in the United Nations, BRICS, the SCO, within the Group of Twenty, as well"
                " as at ASEAN cooperation platforms and other formats, with all these efforts ful"
                "ly in line with the trust-based partnership between the two countries."
            ),
            (
                "Sergey Lavrov invited Foreign Minister of the People’s Republic of China Qin Gan"
                "g to visit Russia at a convenient time."
            ),
            "#RussiaChina",
        ]
    ),
    "\n".join(
        [
            (
                "🇷🇺🇨🇳 Foreign Minister Sergey Lavrov’s opening remarks during a meeting with Fore"
                "ign Minister of China Qin Gang on the sidelines of the G20 Foreign Ministers’ me"
                "eting"
            ),
            "📍 New Delhi, March 2, 2023",
            (
                "💬 Sergey Lavrov: Once again, please accept my congratulations on your appointmen"
                "t as Foreign Minister of the People’s Republic of China. I am certain that by wo"
                "rking together we will be able to ensure continuity and steady progress in all a"
                "reas, as agreed by our leaders, including during their February 4, 2022, summit "
                "in Beijing."
            ),
            (
                "We have far-reaching plans for developing bilateral cooperation in all spheres a"
                "nd a packed foreign policy agenda, considering the overall stabilising role Russ"
                "ia and China play in international relations."
            ),
            "Read in full",
            "#RussiaChina",
        ]
    ),
]
