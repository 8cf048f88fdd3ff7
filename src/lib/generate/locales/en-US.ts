// en-US tables. Sources (weights are published figures where stated, otherwise estimates; all
// are normalised over the listed entries when sampled):
// - Surnames 1–100: US Census Bureau, 2010 surname file (occurrences per 100,000 people:
//   Smith 828.19, Johnson 655.24, …; transcribed, check Names_2010Census.csv before quoting).
//   Ranks 101–~560 follow the same file's order with a geometric 76 → 25 per-100k tail. The top
//   100 cover only ~16 % of Americans, so normalising over the listed names over-weights them
//   about fourfold in absolute terms; relative frequencies are kept.
// - Parents' first names: Social Security Administration national baby-name data, approximate
//   mean yearly births per name 1985–2000 (hundreds). Babies: SSA 2022 counts (hundreds).
// - Sex ratio at birth ≈ 1.05 (CDC NVSS); cesarean rate 32.1 % (NVSS, 2021–2022); mean maternal
//   age 29.8, sd 5.5 (project brief). Births by hour and weekday: NVSS natality data show the
//   fewest births 01:00–06:00, a scheduled-cesarean peak at 08:00–12:00 and ~15 % fewer births
//   at weekends; the weights are estimates of that shape. Father on the record, father phone,
//   shared surname and e-mail shares are estimates for hospital newborn records, not statistics.
import type { Sex } from '../../../domain/index.js';
import { pairs, tail, wholeNames, type LocaleTables } from '../locale.js';
import { weightedTable } from '../random.js';

const SURNAMES = [
  ...pairs(`
    Smith 828.19 Johnson 655.24 Williams 550.97 Brown 487.16 Jones 483.24 Garcia 395.32
    Miller 393.73 Davis 378.45 Rodriguez 371.19 Martinez 359.40 Hernandez 353.68 Lopez 296.47
    Gonzalez 285.11 Wilson 271.84 Anderson 265.92 Thomas 256.34 Taylor 254.67 Moore 245.57
    Jackson 240.05 Martin 238.20 Lee 234.94 Perez 231.08 Thompson 225.32 White 223.91
    Harris 211.63 Sanchez 207.73 Clark 190.75 Ramirez 188.97 Lewis 180.28 Robinson 179.61
    Walker 177.35 Young 164.23 Allen 163.61 King 157.78 Wright 155.60 Scott 149.00 Torres 148.42
    Nguyen 148.37 Hill 147.41 Flores 147.12 Green 145.84 Adams 145.05 Nelson 144.06 Baker 142.24
    Hall 138.00 Rivera 132.59 Campbell 130.91 Mitchell 130.34 Carter 127.79 Roberts 127.73
    Gomez 123.96 Phillips 122.32 Evans 120.55 Turner 118.19 Diaz 117.85 Parker 113.98 Cruz 113.30
    Edwards 112.70 Collins 111.80 Reyes 111.16 Stewart 110.16 Morris 108.11 Morales 105.70
    Murphy 104.56 Cook 102.58 Rogers 102.47 Gutierrez 99.40 Ortiz 97.26 Morgan 97.05 Cooper 95.19
    Peterson 94.35 Bailey 94.19 Reed 93.92 Kelly 90.65 Howard 89.78 Ramos 89.32 Kim 88.94
    Cox 88.56 Ward 88.30 Richardson 88.07 Watson 85.63 Brooks 85.32 Chavez 85.06 Wood 85.00
    James 84.54 Bennett 83.94 Gray 83.44 Mendoza 82.23 Ruiz 80.76 Hughes 80.10 Price 79.75
    Alvarez 79.32 Castillo 78.11 Sanders 78.10 Patel 77.96 Myers 77.94 Long 77.76 Ross 77.75
    Foster 77.21 Jimenez 76.63`),
  ...tail(`
    Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher
    Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace
    Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford
    Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry
    Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva
    Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone
    Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto
    Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen
    Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley
    Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras
    Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene
    Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin
    Dominguez Carr Lawson Jacobs O'Brien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey
    Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le McCoy Garrett Burton
    Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks Padilla Day Walsh
    Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez Newman Pearson
    Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila Wade Molina
    Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Ayala
    Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton Schwartz
    Norris Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker Holt
    Deleon Barker Terry Hale Leon Benson Haynes Horton Miles Lyons Pham Graves Bush Thornton
    Wolfe Warner Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy Love Robles
    Cervantes Solis Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon Velasquez
    Hardy Higgins Aguirre Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey
    Francis Griffith Paul Blair O'Connor Cardenas Pacheco Cross Calderon Quinn Moss Swanson
    Chan Rivas Khan Rodgers Serrano Fitzgerald Rosales Stevenson Christensen Manning Gill Curry
    McLaughlin Harmon McGee Gross Doyle Garner Newton Burgess Reese Walton Blake Trujillo Adkins
    Brady Goodman Roman Webster Goodwin Fischer Huang Potter Delacruz Montoya Todd Wu Hines
    Mullins Castaneda Malone Cannon Tate Mack Sherman Hubbard Hodges Zhang Guerra Wolf Valencia
    Saunders Franco Rowe Gallagher Farmer Hammond Hampton Townsend Ingram Wise Gallegos Clarke
    Barton Schroeder Maxwell Waters Logan Camacho Strickland Norman Person Colon Parsons Frank
    Harrington Glover Osborne Buchanan Casey Floyd Patton Ibarra Ball Tyler Suarez Bowers
    Orozco Salas Cobb Gibbs Andrade Bauer Conner Moody Escobar McGuire Lloyd Mueller Hartman
    French Kramer McBride Pope Lindsey Velazquez Norton McCormick Sparks Flynn Yates Hogan Marsh
    Macias Villanueva Zamora Pratt Stokes Owen Ballard Lang Brock Villarreal Charles Drake
    Barrera Cain Patrick Pineda Burnett Mercado Santana Shepherd Bautista Ali Shaffer Lamb
    Trevino McKenzie Hess Olsen Cochran`, 76, 25),
];

// Parents' generation (born 1985–2000): approximate mean yearly births, hundreds.
const WOMEN = pairs(`
  Jessica 350 Ashley 330 Amanda 270 Sarah 260 Jennifer 200 Brittany 200 Samantha 200 Stephanie 180
  Elizabeth 180 Megan 170 Emily 170 Nicole 160 Lauren 140 Hannah 140 Rachel 130 Kayla 130
  Taylor 120 Madison 120 Danielle 110 Melissa 110 Jasmine 110 Heather 100 Amber 100 Kimberly 100
  Michelle 100 Rebecca 100 Courtney 100 Alyssa 100 Victoria 100 Alexis 100 Christina 90 Laura 90
  Chelsea 90 Katherine 90 Sara 90 Anna 90 Brianna 90 Morgan 90 Tiffany 80 Crystal 80 Erin 80
  Andrea 80 Olivia 80 Haley 80 Amy 70 Kelly 70 Allison 70 Vanessa 70 Erica 70 Alexandra 70 Mary 70
  Natalie 70 Abigail 70 Kelsey 70 Sydney 70 Angela 60 Lindsey 60 Alicia 60 Destiny 60 Shannon 50
  Kristen 50 Jamie 50 Kathryn 50 Katie 50 Caitlin 50 Whitney 50 Brittney 50 Cassandra 50
  Catherine 50 Veronica 50 Jacqueline 50 Marissa 50 Katelyn 50 Julia 50 Brooke 50 Paige 50
  Jordan 50 Emma 50 Lisa 40 Holly 40 Kristin 40 Julie 40 April 40 Monica 40 Lindsay 40 Erika 40
  Melanie 40 Diana 40 Leah 40 Sabrina 40 Jenna 40 Grace 40 Mariah 40 Kaitlyn 40 Christine 30
  Kristina 30 Tara 30 Kathleen 30 Bethany 30 Natasha 30 Desiree 30 Gabrielle 30 Chloe 30
  Mallory 20 Dana 20 Kendra 20 Krystal 20 Meghan 20 Ariel 20 Jillian 20 Adriana 20 Daisy 20
  Cynthia 20 Selena 20 Hailey 20 Molly 20 Savannah 20 Rachael 20 Jessie 20 Alexa 20`);
const MEN = pairs(`
  Michael 500 Christopher 440 Matthew 400 Joshua 400 Andrew 340 Daniel 330 David 330 Jacob 300
  Nicholas 300 Joseph 280 John 280 James 280 Robert 280 Brandon 270 Justin 250 William 250
  Tyler 240 Ryan 240 Anthony 240 Jonathan 230 Zachary 200 Kevin 190 Kyle 180 Alexander 170
  Thomas 170 Austin 160 Eric 160 Steven 160 Brian 160 Benjamin 150 Jordan 140 Cody 140 Aaron 140
  Adam 130 Timothy 120 Jason 120 Jose 120 Nathan 120 Christian 120 Richard 110 Sean 110
  Samuel 110 Dylan 110 Ethan 110 Patrick 100 Charles 100 Jeremy 90 Mark 90 Jeffrey 80 Travis 80
  Stephen 80 Juan 80 Caleb 80 Noah 80 Jesse 70 Paul 70 Logan 70 Bryan 70 Luis 70 Cameron 70
  Hunter 70 Dustin 60 Kenneth 60 Scott 60 Derek 60 Corey 60 Carlos 60 Trevor 60 Jared 60 Evan 60
  Ian 60 Alex 60 Gabriel 60 Connor 60 Gregory 50 Bradley 50 Shawn 50 Marcus 50 Jesus 50
  Antonio 50 Edward 50 Devin 50 Tanner 50 Isaiah 50 Seth 50 Blake 50 Brett 40 Peter 40
  Vincent 40 Joel 40 Shane 40 Mitchell 40 Victor 40 Spencer 40 Garrett 40 Cory 40 Adrian 40
  Jake 40 Chase 40 Chad 30 Erik 30 Phillip 30 Casey 30 Dakota 30 Ricardo 30 Miguel 30 Lucas 30`);

// Babies: SSA 2022 counts, hundreds.
const GIRLS = pairs(`
  Olivia 166 Emma 144 Charlotte 129 Amelia 123 Sophia 123 Isabella 117 Ava 110 Mia 110
  Evelyn 93 Luna 89 Harper 88 Camila 86 Sofia 80 Scarlett 79 Elizabeth 77 Eleanor 75 Emily 73
  Chloe 73 Mila 72 Violet 71 Penelope 71 Gianna 70 Aria 69 Abigail 68 Ella 66 Avery 66 Hazel 65
  Nora 64 Layla 62 Lily 62 Aurora 61 Nova 60 Ellie 59 Madison 57 Grace 56 Isla 56 Willow 56
  Zoe 55 Riley 55 Stella 54 Zoey 52 Victoria 50 Emilia 50 Everly 49 Hannah 48 Ivy 48 Lucy 48
  Naomi 44 Elena 44 Leilani 43 Eliana 42 Addison 42 Paisley 42 Natalie 41 Maya 40 Leah 40
  Valentina 40 Audrey 40 Delilah 40 Josephine 39 Kinsley 38 Brooklyn 38 Savannah 38 Athena 38
  Hailey 37 Autumn 37 Ruby 37 Aaliyah 36 Sadie 35 Skylar 34 Bella 34 Claire 34 Alice 33
  Lillian 33 Anna 32 Caroline 32 Genesis 31 Eliza 31 Serenity 31 Nevaeh 30 Allison 29 Sarah 29
  Maria 28 Piper 28 Quinn 28 Ayla 28 Kennedy 27 Samantha 27 Madelyn 27 Emery 27 Gabriella 26
  Ariana 26 Sophie 25 Iris 25 Jade 25 Daisy 24 Aubrey 24`);
const BOYS = pairs(`
  Liam 205 Noah 186 Oliver 151 James 120 Elijah 120 William 113 Henry 112 Lucas 109 Benjamin 108
  Theodore 108 Mateo 103 Levi 98 Sebastian 93 Daniel 91 Jack 90 Michael 88 Alexander 87 Owen 86
  Asher 86 Samuel 85 Ethan 84 Leo 83 Jackson 82 Mason 81 Ezra 80 John 79 Hudson 77 Luca 75
  Aiden 74 Joseph 74 David 73 Jacob 72 Logan 71 Luke 70 Julian 70 Gabriel 68 Grayson 66
  Wyatt 66 Matthew 66 Maverick 65 Dylan 64 Isaac 63 Elias 63 Anthony 62 Thomas 62 Jayden 61
  Carter 61 Santiago 60 Ezekiel 60 Charles 59 Josiah 58 Caleb 57 Cooper 57 Lincoln 57 Miles 56
  Christopher 55 Nathan 54 Isaiah 54 Kai 53 Joshua 52 Andrew 52 Angel 51 Adrian 50 Cameron 50
  Nolan 49 Waylon 49 Jaxon 48 Roman 48 Eli 47 Wesley 47 Aaron 47 Ian 46 Christian 46 Ryan 45
  Leonardo 44 Brooks 44 Axel 43 Walker 43 Jonathan 43 Easton 42 Everett 42 Weston 42 Bennett 41
  Robert 40 Jameson 40 Landon 40 Silas 40 Jose 39 Beau 39 Micah 38 Colton 38 Jordan 38
  Jeremiah 37 Parker 37 Greyson 36 Rowan 36 Adam 36`);

const STREETS = tail(`
  Main Oak Maple Cedar Elm Pine Washington Park Lake Hill Walnut Sunset Lincoln Jackson Church
  Highland Madison Willow River Spring Center Cherry Meadow Forest Jefferson Franklin Chestnut
  Ridge Adams Lakeview Dogwood Hickory Birch Mill Valley Broad Union Market Grove Prospect
  Sycamore Magnolia Laurel Aspen Holly Wilson Green Riverside College Orchard Colonial Fairview
  Woodland Hillcrest Poplar Locust Second Third Fourth Fifth Sixth Seventh Eighth
  Ninth Tenth`, 4, 1)
  .map(([name, w]): [string, number] => [
    ({ Second: '2nd', Third: '3rd', Fourth: '4th', Fifth: '5th', Sixth: '6th', Seventh: '7th', Eighth: '8th', Ninth: '9th', Tenth: '10th' } as Record<string, string>)[name] ?? name,
    w,
  ]);
const streetTable = weightedTable(STREETS);
const SUFFIXES = [['St', 30], ['Ave', 22], ['Rd', 14], ['Dr', 14], ['Ln', 8], ['Ct', 5], ['Blvd', 3], ['Way', 3], ['Pl', 2]] as const;

const BABY: Record<Sex, string> = { male: 'Baby Boy', female: 'Baby Girl' };
const mailbox = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export const enUS: LocaleTables = {
  locale: 'en-US',
  surnames: weightedTable(SURNAMES),
  given: {
    female: { parent: wholeNames(WOMEN), baby: weightedTable(GIRLS) },
    male: { parent: wholeNames(MEN), baby: weightedTable(BOYS) },
  },
  fullName: (family, given) => `${given} ${family}`,
  sexRatio: 1.05,
  motherAge: { mean: 29.8, sd: 5.5, min: 18, max: 45 },
  fatherAgeGap: { mean: 2.5, sd: 3, minAge: 20, maxAge: 70 },
  birthWeight: { mean: 3300, sd: 450, min: 1500, max: 4800 },
  nicuWeight: { mean: 2400, sd: 600, min: 500, max: 4800 },
  caesareanRate: 0.32,
  stayDays: { vaginal: [2, 3], caesarean: [4, 6], nicu: [7, 21] },
  hourWeights: {
    //         0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16   17   18   19   20   21   22   23
    vaginal:   [3.6, 3.4, 3.3, 3.3, 3.3, 3.4, 3.6, 3.9, 4.3, 4.5, 4.6, 4.6, 4.6, 4.7, 4.7, 4.7, 4.6, 4.5, 4.4, 4.3, 4.2, 4.1, 3.9, 3.7],
    caesarean: [1.4, 1.2, 1.1, 1.0, 1.0, 1.1, 1.4, 3.0, 9.5, 9.5, 8.5, 8.0, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5, 3.5, 3.0, 2.5, 2.2, 1.8, 1.6],
  },
  weekdayWeights: [0.87, 1.02, 1.05, 1.03, 1.03, 1.02, 0.88],
  motherPhoneShare: 1,
  fatherShare: 0.88,
  fatherPhoneShare: 0.6,
  sharedSurnameShare: 0.55,
  emailShare: 0.7,
  emailLocal: (rng, name, birthDate) => {
    const first = mailbox(name.given), last = mailbox(name.family);
    const yy = birthDate.slice(2, 4), year = birthDate.slice(0, 4), n = String(rng.int(1, 999));
    return rng.weighted<() => string>([
      [() => `${first}.${last}`, 0.14],
      [() => `${first}.${last}${yy}`, 0.08],
      [() => `${first}${last}`, 0.1],
      [() => `${first}${last}${n}`, 0.1],
      [() => `${first.charAt(0)}${last}`, 0.08],
      [() => `${first.charAt(0)}${last}${yy}`, 0.1],
      [() => `${first.charAt(0)}${last}${n}`, 0.08],
      [() => `${first}_${last}`, 0.04],
      [() => `${first}${last.charAt(0)}${yy}`, 0.06],
      [() => `${first}${year}`, 0.06],
      [() => `${first}${n}`, 0.06],
      [() => `${last}${first.charAt(0)}`, 0.04],
      [() => `${first}.${last.charAt(0)}${n}`, 0.06],
    ])();
  },
  address: (rng, district) => {
    const street = `${rng.int(1, 9) * 10 ** rng.int(0, 3) + rng.int(0, 99)} ${streetTable.sample(rng)} ${rng.weighted(SUFFIXES)}`;
    const apt = rng.chance(0.35) ? `, Apt ${rng.chance(0.5) ? rng.int(1, 40) : `${rng.int(1, 12)}${rng.pick(['A', 'B', 'C', 'D'])}`}` : '';
    return { district, street: street + apt, full: `${street}${apt}, ${district}` };
  },
  babyPlaceholderShare: 0.3,
  babyPlaceholder: (mother, sex) => ({ family: mother.family, given: BABY[sex] }),
};
